import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsSearchText } from 'src/common/validation';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

/** Payload fields a search may filter on, each matched for equality. */
export const FILTERABLE_FIELDS = ['item_id', 'item_title', 'file_id', 'collection_id', 'source_file', 'dataset_id', 'chunk_index'] as const;

export class SearchRequestDto {
  @ApiProperty({ example: 'How are invoices approved?' })
  @IsSearchText(4096)
  @IsNotEmpty({ message: 'query must contain text other than spaces' })
  query: string;

  @ApiProperty({ type: [String], description: 'Embedded datasets searched side by side' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @ArrayUnique()
  @IsUUID('all', { each: true })
  embedded_dataset_ids: string[];

  @ApiPropertyOptional({ default: 10, minimum: 1, maximum: 100, description: 'Chunks returned per embedded dataset' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 10;

  @ApiPropertyOptional({ default: 0, description: 'Minimum cosine similarity of a returned chunk' })
  @IsOptional()
  @IsNumber()
  @Min(-1)
  @Max(1)
  score_threshold: number = 0;

  @ApiPropertyOptional({
    type: Object,
    description: `Exact-match filters on chunk fields: ${FILTERABLE_FIELDS.join(', ')}`,
    example: { source_file: 'handbook.pdf' },
  })
  @IsOptional()
  @IsObject()
  filters?: Record<string, string | number>;
}
