import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { PipelineConfig } from 'src/config/app-config';
import { DatasetTransformJob } from 'src/dataset-transforms/dataset-transform.job';
import { DatasetTransformEntity } from 'src/dataset-transforms/dataset-transform.entity';
import { EmbeddedDatasetEntity } from 'src/embedded-datasets/embedded-dataset.entity';
import { EmbeddedDatasetsService } from 'src/embedded-datasets/embedded-datasets.service';
import { EmbedderEntity } from 'src/embedders/embedder.entity';
import { JetStreamService } from 'src/platform/messaging/jetstream.service';
import { JobSubject } from 'src/platform/messaging/streams';

interface CreatedBatch {
  id: string;
  chunkCount: number;
}

/**
 * Finds chunks that an embedded dataset does not hold yet, records them in batches and
 * publishes one embedding job per batch. Any role may call it: scans of one embedded
 * dataset are serialised by a Postgres advisory lock, and a chunk can join only one batch
 * per embedded dataset (primary key of `embedded_chunks`).
 */
@Injectable()
export class EmbeddingScheduler {
  private readonly logger = new Logger(EmbeddingScheduler.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: PipelineConfig,
    private readonly jetStream: JetStreamService,
    private readonly embeddedDatasets: EmbeddedDatasetsService,
    @InjectRepository(DatasetTransformEntity) private readonly transforms: Repository<DatasetTransformEntity>,
  ) {}

  /** Schedules embedding for every enabled dataset transform that reads this dataset. Returns batches created. */
  async scanDataset(datasetId: string): Promise<number> {
    const transforms = await this.transforms.findBy({ sourceDatasetId: datasetId, isEnabled: true });
    let created = 0;
    for (const transform of transforms) created += await this.scanTransform(transform);
    return created;
  }

  async scanTransform(transform: DatasetTransformEntity): Promise<number> {
    if (!transform.isEnabled) return 0;
    let created = 0;
    for (const embeddedDataset of await this.embeddedDatasets.listForTransform(transform.id)) {
      const embedder = await this.dataSource.getRepository(EmbedderEntity).findOneBy({ id: embeddedDataset.embedderId! });
      if (!embedder) {
        this.logger.warn({ embedded_dataset_id: embeddedDataset.id }, 'embedder of embedded dataset is gone; skipped');
        continue;
      }
      created += await this.scanEmbeddedDataset(transform, embeddedDataset, embedder);
    }
    return created;
  }

  async scanAllEnabled(): Promise<number> {
    let created = 0;
    for (const transform of await this.transforms.findBy({ isEnabled: true })) {
      created += await this.scanTransform(transform);
    }
    return created;
  }

  private async scanEmbeddedDataset(
    transform: DatasetTransformEntity,
    embeddedDataset: EmbeddedDatasetEntity,
    embedder: EmbedderEntity,
  ): Promise<number> {
    const limit = this.config.maxChunksPerScan;
    let created = 0;
    for (;;) {
      const { batches, chunksFound } = await this.dataSource.transaction(async (manager) => {
        await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [embeddedDataset.id]);
        const rows: Array<{ id: string }> = await manager.query(
          `SELECT c.id FROM dataset_item_chunks c
            WHERE c.dataset_id = $1
              AND NOT EXISTS (SELECT 1 FROM embedded_chunks ec WHERE ec.embedded_dataset_id = $2 AND ec.chunk_id = c.id)
            ORDER BY c.created_at, c.id
            LIMIT $3
            -- Chunks being replaced right now are skipped; the lock keeps the rest until commit.
            FOR KEY SHARE OF c SKIP LOCKED`,
          [embeddedDataset.sourceDatasetId, embeddedDataset.id, limit],
        );
        const newBatches: CreatedBatch[] = [];
        for (let offset = 0; offset < rows.length; offset += embedder.batchSize) {
          const chunkIds = rows.slice(offset, offset + embedder.batchSize).map((row) => row.id);
          const [batch]: Array<{ id: string }> = await manager.query(
            `INSERT INTO dataset_transform_batches (owner_id, dataset_transform_id, embedded_dataset_id, embedder_id, status, chunk_count)
             VALUES ($1, $2, $3, $4, 'pending', $5) RETURNING id`,
            [transform.ownerId, transform.id, embeddedDataset.id, embedder.id, chunkIds.length],
          );
          await manager.query(
            `INSERT INTO embedded_chunks (embedded_dataset_id, chunk_id, batch_id)
             SELECT $1, unnest($2::uuid[]), $3`,
            [embeddedDataset.id, chunkIds, batch.id],
          );
          newBatches.push({ id: batch.id, chunkCount: chunkIds.length });
        }
        return { batches: newBatches, chunksFound: rows.length };
      });

      for (const batch of batches) await this.dispatch(transform, embeddedDataset, embedder.id, batch.id);
      created += batches.length;
      if (batches.length > 0) {
        this.logger.log(
          { embedded_dataset_id: embeddedDataset.id, batches: batches.length, chunks: chunksFound },
          'embedding batches scheduled',
        );
      }
      if (chunksFound < limit) return created;
    }
  }

  /**
   * Publishes the job of a recorded batch. The message id is the batch id, so the server drops
   * a repeat within the stream's de-duplication window. A failed publish leaves the batch
   * undispatched, and the reconciler publishes it later.
   */
  async dispatch(
    transform: Pick<DatasetTransformEntity, 'id' | 'ownerId'>,
    embeddedDataset: Pick<EmbeddedDatasetEntity, 'id'>,
    embedderId: string,
    batchId: string,
    attempt?: string,
  ): Promise<boolean> {
    const job: DatasetTransformJob = {
      job_id: randomUUID(),
      batch_id: batchId,
      dataset_transform_id: transform.id,
      embedded_dataset_id: embeddedDataset.id,
      embedder_id: embedderId,
      owner_id: transform.ownerId,
    };
    try {
      // A retry needs a new message id, or NATS would drop it as a repeat within the window.
      await this.jetStream.publishJob(JobSubject.DatasetTransform, job, attempt ? `dt-batch-${batchId}-${attempt}` : `dt-batch-${batchId}`);
      await this.dataSource.query('UPDATE dataset_transform_batches SET dispatched_at = now(), updated_at = now() WHERE id = $1', [
        batchId,
      ]);
      return true;
    } catch (error) {
      this.logger.error({ err: error, batch_id: batchId }, 'embedding job not published; the reconciler will retry');
      return false;
    }
  }

  /**
   * Puts batches that have been `processing` longer than the threshold back to `pending` and
   * publishes them again under a new message id. Their worker is taken to be gone; if it was
   * only slow, the batch is embedded twice, which leaves the same points.
   */
  async redispatchStuck(thresholdHours: number): Promise<number> {
    const rows = returnedRows<{ id: string }>(await this.dataSource.query(
      `UPDATE dataset_transform_batches SET status = 'pending', dispatched_at = NULL, updated_at = now()
        WHERE status = 'processing' AND started_at < now() - make_interval(secs => $1)
        RETURNING id`,
      [Math.round(thresholdHours * 3600)],
    ));
    if (rows.length > 0) this.logger.warn({ batches: rows.length }, 'stuck embedding batches dispatched again');
    return this.redispatchBatches(rows.map((row) => row.id), 'stuck');
  }

  /** Sets failed batches (all of a transform, or one) back to pending and publishes them again. */
  async retryFailed(transformId: string, batchId?: string): Promise<number> {
    const rows = returnedRows<{ id: string }>(await this.dataSource.query(
      `UPDATE dataset_transform_batches SET status = 'pending', error_message = NULL, dispatched_at = NULL, updated_at = now()
        WHERE dataset_transform_id = $1 AND status = 'failed' AND ($2::uuid IS NULL OR id = $2::uuid)
        RETURNING id`,
      [transformId, batchId ?? null],
    ));
    return this.redispatchBatches(rows.map((row) => row.id), 'retry');
  }

  private async redispatchBatches(batchIds: string[], reason: string): Promise<number> {
    if (batchIds.length === 0) return 0;
    const rows: Array<{ id: string; dataset_transform_id: string; embedded_dataset_id: string; embedder_id: string; owner_id: string }> =
      await this.dataSource.query(
        'SELECT id, dataset_transform_id, embedded_dataset_id, embedder_id, owner_id FROM dataset_transform_batches WHERE id = ANY($1)',
        [batchIds],
      );
    const attempt = `${reason}-${randomUUID()}`;
    let published = 0;
    for (const row of rows) {
      const ok = await this.dispatch({ id: row.dataset_transform_id, ownerId: row.owner_id }, { id: row.embedded_dataset_id }, row.embedder_id, row.id, attempt);
      if (ok) published += 1;
    }
    return published;
  }

  /**
   * Publishes again the pending batches whose job was never published or has waited longer
   * than `staleAfterSecs`. A batch that already ran (it was put back after a provider outage)
   * gets a message id per attempt, so the dedup window does not drop it, while repeated
   * publishes between two attempts still collapse into one job.
   */
  async redispatchPending(staleAfterSecs: number): Promise<number> {
    const rows: Array<{
      id: string;
      dataset_transform_id: string;
      embedded_dataset_id: string;
      embedder_id: string;
      owner_id: string;
      attempts: number;
    }> =
      await this.dataSource.query(
        `SELECT id, dataset_transform_id, embedded_dataset_id, embedder_id, owner_id, attempts
           FROM dataset_transform_batches
          WHERE status = 'pending'
            AND (dispatched_at IS NULL OR dispatched_at < now() - make_interval(secs => $1))
          ORDER BY created_at
          LIMIT 1000`,
        [staleAfterSecs],
      );
    let published = 0;
    for (const row of rows) {
      const ok = await this.dispatch(
        { id: row.dataset_transform_id, ownerId: row.owner_id },
        { id: row.embedded_dataset_id },
        row.embedder_id,
        row.id,
        row.attempts > 0 ? `a${row.attempts}` : undefined,
      );
      if (ok) published += 1;
    }
    return published;
  }
}

/** TypeORM returns `[rows, affectedCount]` for an UPDATE or DELETE with RETURNING on Postgres. */
function returnedRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}
