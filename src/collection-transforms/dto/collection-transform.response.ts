import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CollectionTransformEntity } from 'src/collection-transforms/collection-transform.entity';
import { EntryOutcome, TransformProcessedFileEntity } from 'src/collection-transforms/transform-processed-file.entity';

export class CollectionTransformResponse {
  @ApiProperty() id: string;
  @ApiProperty() title: string;
  @ApiProperty() collection_id: string;
  @ApiProperty() dataset_id: string;
  @ApiProperty() is_enabled: boolean;
  @ApiProperty({ type: Object }) job_config: Record<string, unknown>;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export function toCollectionTransformResponse(entity: CollectionTransformEntity): CollectionTransformResponse {
  return {
    id: entity.id,
    title: entity.title,
    collection_id: entity.collectionId,
    dataset_id: entity.datasetId,
    is_enabled: entity.isEnabled,
    job_config: entity.jobConfig,
    created_at: entity.createdAt.toISOString(),
    updated_at: entity.updatedAt.toISOString(),
  };
}

export class CollectionTransformStats {
  @ApiProperty() collection_transform_id: string;
  @ApiProperty() total_files: number;
  @ApiProperty() files_processed: number;
  @ApiProperty() files_failed: number;
  @ApiProperty() files_processing: number;
  @ApiProperty() files_pending: number;
  @ApiProperty() chunks_created: number;
  @ApiPropertyOptional({ nullable: true }) last_processed_at: string | null;
}

export class ProcessedFileResponse {
  @ApiProperty() file_id: string;
  @ApiProperty() file_revision: string;
  @ApiProperty({ enum: ['processing', 'completed', 'failed'] }) status: string;
  @ApiPropertyOptional({ nullable: true }) error_code: string | null;
  @ApiPropertyOptional({ nullable: true }) error_message: string | null;
  @ApiProperty() chunk_count: number;
  @ApiProperty() attempts: number;
  @ApiPropertyOptional({ nullable: true }) processing_duration_ms: number | null;
  @ApiPropertyOptional({ nullable: true }) processed_at: string | null;
  @ApiProperty({ description: 'Outcome of each archive entry or email attachment of the file' })
  entries: EntryOutcome[];
}

export function toProcessedFileResponse(entity: TransformProcessedFileEntity): ProcessedFileResponse {
  return {
    file_id: entity.fileId,
    file_revision: entity.fileRevision,
    status: entity.status,
    error_code: entity.errorCode,
    error_message: entity.errorMessage,
    chunk_count: entity.chunkCount,
    attempts: entity.attempts,
    processing_duration_ms: entity.processingDurationMs,
    processed_at: entity.processedAt ? entity.processedAt.toISOString() : null,
    entries: entity.entryOutcomes ?? [],
  };
}
