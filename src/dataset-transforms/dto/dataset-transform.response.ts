import { ApiProperty } from '@nestjs/swagger';
import { DatasetTransformBatchEntity } from 'src/dataset-transforms/dataset-transform-batch.entity';
import { DatasetTransformEntity } from 'src/dataset-transforms/dataset-transform.entity';
import { EmbeddedDatasetResponse } from 'src/embedded-datasets/dto/embedded-dataset.response';

export class DatasetTransformResponse {
  @ApiProperty() id: string;
  @ApiProperty() title: string;
  @ApiProperty() source_dataset_id: string;
  @ApiProperty({ type: [String] }) embedder_ids: string[];
  @ApiProperty() is_enabled: boolean;
  @ApiProperty({ type: [EmbeddedDatasetResponse] }) embedded_datasets: EmbeddedDatasetResponse[];
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export function toDatasetTransformResponse(
  entity: DatasetTransformEntity,
  embeddedDatasets: EmbeddedDatasetResponse[],
): DatasetTransformResponse {
  return {
    id: entity.id,
    title: entity.title,
    source_dataset_id: entity.sourceDatasetId,
    embedder_ids: entity.embedderIds,
    is_enabled: entity.isEnabled,
    embedded_datasets: embeddedDatasets,
    created_at: entity.createdAt.toISOString(),
    updated_at: entity.updatedAt.toISOString(),
  };
}

export class DatasetTransformStats {
  @ApiProperty() dataset_transform_id: string;
  @ApiProperty({ enum: ['idle', 'pending', 'processing', 'completed', 'completed_with_errors', 'failed'] })
  status: string;
  @ApiProperty() total_chunks: number;
  @ApiProperty({ description: 'total_chunks times the number of embedded datasets' }) chunks_expected: number;
  @ApiProperty() chunks_embedded: number;
  @ApiProperty() batches_pending: number;
  @ApiProperty() batches_processing: number;
  @ApiProperty() batches_done: number;
  @ApiProperty() batches_failed: number;
}

export class DatasetTransformBatchResponse {
  @ApiProperty() id: string;
  @ApiProperty() embedded_dataset_id: string;
  @ApiProperty() embedder_id: string;
  @ApiProperty({ enum: ['pending', 'processing', 'success', 'failed'] }) status: string;
  @ApiProperty() chunk_count: number;
  @ApiProperty({ description: 'Times a worker started embedding the batch' }) attempts: number;
  @ApiProperty({ nullable: true, type: String, description: 'Why the batch failed, or what a deferred batch waits for' })
  error_message: string | null;
  @ApiProperty({ nullable: true, type: Number }) processing_duration_ms: number | null;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String }) started_at: string | null;
  @ApiProperty({ nullable: true, type: String }) finished_at: string | null;
}

export function toBatchResponse(batch: DatasetTransformBatchEntity): DatasetTransformBatchResponse {
  return {
    id: batch.id,
    embedded_dataset_id: batch.embeddedDatasetId,
    embedder_id: batch.embedderId,
    status: batch.status,
    chunk_count: batch.chunkCount,
    attempts: batch.attempts,
    error_message: batch.errorMessage,
    processing_duration_ms: batch.processingDurationMs,
    created_at: batch.createdAt.toISOString(),
    started_at: batch.startedAt?.toISOString() ?? null,
    finished_at: batch.finishedAt?.toISOString() ?? null,
  };
}
