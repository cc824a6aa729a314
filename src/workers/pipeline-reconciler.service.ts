import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PipelineConfig } from 'src/config/app-config';
import { CollectionTransformsService } from 'src/collection-transforms/collection-transforms.service';
import { EmbeddingScheduler } from 'src/dataset-transforms/embedding-scheduler.service';

// Any constant works; replicas only have to agree on it.
const RECONCILER_LOCK_KEY = 7_164_800_001;

/**
 * Periodically repairs what a crash or an outage between a commit and a publish can leave
 * behind: files whose current revision has no job outcome, chunks that no batch holds, and
 * batches whose job was never published. One replica at a time does it (advisory lock).
 */
@Injectable()
export class PipelineReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PipelineReconciler.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<boolean>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: PipelineConfig,
    private readonly collectionTransforms: CollectionTransformsService,
    private readonly scheduler: EmbeddingScheduler,
  ) {}

  onApplicationBootstrap(): void {
    const intervalMs = this.config.reconciliationIntervalSecs * 1000;
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.reconcileOnce().finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Returns false when another replica holds the lock. */
  async reconcileOnce(): Promise<boolean> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [RECONCILER_LOCK_KEY]);
      if (!locked) return false;
      try {
        // Jobs younger than one interval may still be on their way; leave them alone.
        const graceSecs = this.config.reconciliationIntervalSecs;
        const files = await this.collectionTransforms.dispatchAllUnprocessed(graceSecs);
        const batches = await this.scheduler.scanAllEnabled();
        const republished = await this.scheduler.redispatchPending(graceSecs);
        const stuck = await this.scheduler.redispatchStuck(this.config.stuckBatchThresholdHours);
        if (files + batches + republished + stuck > 0) {
          this.logger.log({ files, batches, republished, stuck }, 'pipeline reconciled');
        }
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [RECONCILER_LOCK_KEY]);
      }
      return true;
    } catch (error) {
      this.logger.error({ err: error }, 'pipeline reconciliation failed');
      return false;
    } finally {
      await runner.release();
    }
  }
}
