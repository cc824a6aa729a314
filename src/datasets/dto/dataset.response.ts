import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DatasetItemChunkEntity } from 'src/datasets/dataset-item-chunk.entity';
import { DatasetItemEntity } from 'src/datasets/dataset-item.entity';
import { DatasetEntity } from 'src/datasets/dataset.entity';

export class DatasetResponse {
  @ApiProperty() id: string;
  @ApiProperty() title: string;
  @ApiPropertyOptional({ nullable: true }) details: string | null;
  @ApiProperty({ type: [String] }) tags: string[];
  @ApiProperty() is_public: boolean;
  @ApiProperty() item_count: number;
  @ApiProperty() total_chunks: number;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export function toDatasetResponse(entity: DatasetEntity, counts: { items: number; chunks: number }): DatasetResponse {
  return {
    id: entity.id,
    title: entity.title,
    details: entity.details,
    tags: entity.tags,
    is_public: entity.isPublic,
    item_count: counts.items,
    total_chunks: counts.chunks,
    created_at: entity.createdAt.toISOString(),
    updated_at: entity.updatedAt.toISOString(),
  };
}

export class DatasetItemResponse {
  @ApiProperty() id: string;
  @ApiProperty() dataset_id: string;
  @ApiProperty() title: string;
  @ApiProperty({ type: Object }) metadata: Record<string, unknown>;
  @ApiPropertyOptional({ nullable: true }) source_file_id: string | null;
  @ApiPropertyOptional({ nullable: true }) collection_transform_id: string | null;
  @ApiProperty() chunk_count: number;
  @ApiProperty() created_at: string;
}

export function toDatasetItemResponse(entity: DatasetItemEntity, chunkCount: number): DatasetItemResponse {
  return {
    id: entity.id,
    dataset_id: entity.datasetId,
    title: entity.title,
    metadata: entity.metadata,
    source_file_id: entity.sourceFileId,
    collection_transform_id: entity.collectionTransformId,
    chunk_count: chunkCount,
    created_at: entity.createdAt.toISOString(),
  };
}

export class ChunkResponse {
  @ApiProperty() id: string;
  @ApiProperty() chunk_index: number;
  @ApiProperty() text: string;
  @ApiPropertyOptional({ nullable: true }) char_start: number | null;
  @ApiPropertyOptional({ nullable: true }) char_end: number | null;
  @ApiProperty({ type: Object }) metadata: Record<string, unknown>;
}

export function toChunkResponse(entity: DatasetItemChunkEntity): ChunkResponse {
  return {
    id: entity.id,
    chunk_index: entity.chunkIndex,
    text: entity.text,
    char_start: entity.charStart,
    char_end: entity.charEnd,
    metadata: entity.metadata,
  };
}
