import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class SearchMatch {
  @ApiProperty() id: string;
  @ApiProperty() score: number;
  @ApiProperty() text: string;
  @ApiProperty() item_id: string;
  @ApiProperty() item_title: string;
  @ApiPropertyOptional({ nullable: true }) source_file: string | null;
  @ApiPropertyOptional({ nullable: true }) file_id: string | null;
  @ApiProperty() chunk_index: number;
  @ApiProperty({ type: Object }) metadata: Record<string, unknown>;
}

export class EmbeddedDatasetSearchResult {
  @ApiProperty() embedded_dataset_id: string;
  @ApiProperty() embedded_dataset_title: string;
  @ApiPropertyOptional({ nullable: true }) embedder_id: string | null;
  @ApiPropertyOptional({ nullable: true }) embedder_name: string | null;
  @ApiProperty({ type: [SearchMatch] }) matches: SearchMatch[];
  @ApiPropertyOptional({ description: 'Why this embedded dataset returned nothing; the others are unaffected' })
  error?: string;
}

export class SearchResponse {
  @ApiProperty() query: string;
  @ApiProperty({ type: [EmbeddedDatasetSearchResult] }) results: EmbeddedDatasetSearchResult[];
}
