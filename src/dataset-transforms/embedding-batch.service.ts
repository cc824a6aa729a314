import { Injectable, Logger } from '@nestjs/common';
import { v5 as uuidv5 } from 'uuid';
import { DataSource } from 'typeorm';
import { InvalidInputError } from 'src/common/app-error';
import { DatasetTransformJob } from 'src/dataset-transforms/dataset-transform.job';
import { BatchStatus, DatasetTransformBatchEntity } from 'src/dataset-transforms/dataset-transform-batch.entity';
import { DatasetTransformErrorCode } from 'src/dataset-transforms/dataset-transforms.errors';
import { EmbeddedDatasetsService } from 'src/embedded-datasets/embedded-datasets.service';
import { EmbedderEntity } from 'src/embedders/embedder.entity';
import { EmbeddersService } from 'src/embedders/embedders.service';
import { JetStreamService } from 'src/platform/messaging/jetstream.service';
import { datasetTransformMetrics } from 'src/platform/observability/metrics';
import { VectorPoint, VectorStore } from 'src/platform/vectors/vector-store';

// Fixed namespace for point ids: uuidv5(namespace, "<embedded dataset>:<chunk>") is stable across retries.
const POINT_ID_NAMESPACE = '4f1c1f0e-8a43-4a57-9d0b-5b6a2f0c7e11';

export function pointIdFor(embeddedDatasetId: string, chunkId: string): string {
  return uuidv5(`${embeddedDatasetId}:${chunkId}`, POINT_ID_NAMESPACE);
}

interface BatchChunkRow {
  chunk_id: string;
  text: string;
  chunk_index: number;
  metadata: Record<string, unknown>;
  item_id: string;
  item_title: string;
  dataset_id: string;
  file_id: string | null;
  collection_transform_id: string | null;
  file_name: string | null;
  collection_id: string | null;
}

export type BatchOutcome = 'embedded' | 'skipped';

/** Embeds one batch and stores its vectors; safe to run again for the same batch. */
@Injectable()
export class EmbeddingBatchService {
  private readonly logger = new Logger(EmbeddingBatchService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly embedders: EmbeddersService,
    private readonly embeddedDatasets: EmbeddedDatasetsService,
    private readonly vectors: VectorStore,
    private readonly jetStream: JetStreamService,
  ) {}

  async process(job: DatasetTransformJob): Promise<BatchOutcome> {
    const log = { job_id: job.job_id, batch_id: job.batch_id, embedded_dataset_id: job.embedded_dataset_id };
    const batches = this.dataSource.getRepository(DatasetTransformBatchEntity);
    const batch = await batches.findOneBy({ id: job.batch_id });
    if (!batch || batch.status === BatchStatus.Success) {
      this.logger.log({ ...log, status: batch?.status ?? 'deleted' }, 'batch needs no work; skipped');
      return 'skipped';
    }
    const embeddedDataset = await this.embeddedDatasets.findById(batch.embeddedDatasetId);
    if (!embeddedDataset) {
      this.logger.log(log, 'embedded dataset deleted; batch skipped');
      return 'skipped';
    }
    if (embeddedDataset.embedderId !== job.embedder_id || batch.embedderId !== job.embedder_id) {
      throw new InvalidInputError(
        DatasetTransformErrorCode.EmbedderMismatch,
        `job names embedder ${job.embedder_id} but embedded dataset ${embeddedDataset.id} uses ${embeddedDataset.embedderId}`,
      );
    }
    const embedderRow = await this.dataSource.getRepository(EmbedderEntity).findOneBy({ id: job.embedder_id });
    if (!embedderRow) throw new InvalidInputError('embedder_not_found', `embedder ${job.embedder_id} no longer exists`);

    const started = Date.now();
    await batches.update(
      { id: batch.id },
      { status: BatchStatus.Processing, attempts: () => 'attempts + 1', startedAt: new Date(), errorMessage: null },
    );

    const rows: BatchChunkRow[] = await this.dataSource.query(
      `SELECT c.id AS chunk_id, c.text, c.chunk_index, c.metadata, c.item_id, i.title AS item_title, c.dataset_id,
              i.source_file_id AS file_id, i.collection_transform_id, f.name AS file_name, f.collection_id
         FROM embedded_chunks ec
         JOIN dataset_item_chunks c ON c.id = ec.chunk_id
         JOIN dataset_items i ON i.id = c.item_id
         LEFT JOIN collection_files f ON f.id = i.source_file_id
        WHERE ec.batch_id = $1
        ORDER BY c.item_id, c.chunk_index`,
      [batch.id],
    );

    if (rows.length > 0) {
      const embedder = this.embedders.instantiate(embedderRow);
      const vectors = await embedder.embed(rows.map((row) => row.text), 'document');
      if (vectors.length !== rows.length) {
        throw new Error(`embedder returned ${vectors.length} vectors for ${rows.length} texts`);
      }
      await this.vectors.ensureCollection(embeddedDataset.collectionName, embeddedDataset.dimensions);
      const points: VectorPoint[] = rows.map((row, index) => ({
        id: pointIdFor(embeddedDataset.id, row.chunk_id),
        vector: vectors[index],
        payload: {
          chunk_id: row.chunk_id,
          item_id: row.item_id,
          item_title: row.item_title,
          chunk_index: row.chunk_index,
          dataset_id: row.dataset_id,
          file_id: row.file_id,
          collection_transform_id: row.collection_transform_id,
          collection_id: row.collection_id,
          source_file: row.file_name,
          text: row.text,
          metadata: row.metadata,
        },
      }));
      await this.vectors.upsert(embeddedDataset.collectionName, points);
      await this.removeVectorsOfReplacedChunks(batch.id, embeddedDataset.collectionName, points);
    }

    const duration = Date.now() - started;
    await this.dataSource.transaction(async (manager) => {
      await manager.query('UPDATE embedded_chunks SET embedded_at = now() WHERE batch_id = $1', [batch.id]);
      await manager.getRepository(DatasetTransformBatchEntity).update(
        { id: batch.id },
        { status: BatchStatus.Success, finishedAt: new Date(), processingDurationMs: duration, chunkCount: rows.length },
      );
    });

    datasetTransformMetrics.itemsCreated().inc(rows.length);
    await this.jetStream.publishStatus(
      `transforms.dataset.status.${job.owner_id}.${embeddedDataset.sourceDatasetId}.${job.dataset_transform_id}`,
      { ...log, status: 'completed', chunk_count: rows.length, processing_duration_ms: duration },
    );
    this.logger.log({ ...log, chunks: rows.length, duration_ms: duration }, 'batch embedded');
    return 'embedded';
  }

  async markFailed(job: DatasetTransformJob, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    await this.dataSource
      .getRepository(DatasetTransformBatchEntity)
      .update({ id: job.batch_id }, { status: BatchStatus.Failed, errorMessage: message.slice(0, 2000), finishedAt: new Date() });
  }

  /**
   * Puts a batch back to `pending` after its provider (or vector store) stayed unavailable
   * through every delivery, so the reconciler publishes it again later instead of failing it.
   */
  async deferAfterOutage(job: DatasetTransformJob, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    await this.dataSource
      .getRepository(DatasetTransformBatchEntity)
      .update(
        { id: job.batch_id, status: BatchStatus.Processing },
        { status: BatchStatus.Pending, errorMessage: `deferred while a dependency was unavailable: ${message}`.slice(0, 2000), dispatchedAt: new Date() },
      );
  }

  /**
   * Deletes the points just written for chunks that a file replacement removed while the
   * batch was embedding, so no vector outlives its chunk.
   */
  private async removeVectorsOfReplacedChunks(batchId: string, collectionName: string, points: VectorPoint[]): Promise<void> {
    const remaining: Array<{ chunk_id: string }> = await this.dataSource.query(
      'SELECT chunk_id FROM embedded_chunks WHERE batch_id = $1',
      [batchId],
    );
    const alive = new Set(remaining.map((row) => row.chunk_id));
    const orphaned = points.filter((point) => !alive.has(point.payload.chunk_id as string)).map((point) => point.id);
    if (orphaned.length > 0) await this.vectors.deletePoints(collectionName, orphaned);
  }
}
