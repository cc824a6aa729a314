import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EmbeddedDatasetEntity } from 'src/embedded-datasets/embedded-dataset.entity';

export class EmbeddedDatasetResponse {
  @ApiProperty() id: string;
  @ApiProperty() title: string;
  @ApiPropertyOptional({ nullable: true }) dataset_transform_id: string | null;
  @ApiPropertyOptional({ nullable: true }) source_dataset_id: string | null;
  @ApiPropertyOptional({ nullable: true }) embedder_id: string | null;
  @ApiProperty() dimensions: number;
  @ApiProperty() collection_name: string;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export function toEmbeddedDatasetResponse(entity: EmbeddedDatasetEntity): EmbeddedDatasetResponse {
  return {
    id: entity.id,
    title: entity.title,
    dataset_transform_id: entity.datasetTransformId,
    source_dataset_id: entity.sourceDatasetId,
    embedder_id: entity.embedderId,
    dimensions: entity.dimensions,
    collection_name: entity.collectionName,
    created_at: entity.createdAt.toISOString(),
    updated_at: entity.updatedAt.toISOString(),
  };
}
