import { Controller, Logger, UsePipes, ValidationPipe } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { AppError } from 'src/common/app-error';
import { DatasetTransformJob } from 'src/dataset-transforms/dataset-transform.job';
import { EmbeddingBatchService } from 'src/dataset-transforms/embedding-batch.service';
import { JobContext } from 'src/platform/messaging/job-context';
import { JobSubject } from 'src/platform/messaging/streams';
import { datasetTransformMetrics } from 'src/platform/observability/metrics';

function isDependencyOutage(error: unknown): boolean {
  return error instanceof AppError && (error.kind === 'unavailable' || error.kind === 'overloaded');
}

@Controller()
export class DatasetTransformConsumer {
  private readonly logger = new Logger(DatasetTransformConsumer.name);

  constructor(private readonly batches: EmbeddingBatchService) {}

  @EventPattern(JobSubject.DatasetTransform)
  @UsePipes(new ValidationPipe({ transform: true }))
  async handle(@Payload() job: DatasetTransformJob, @Ctx() context: JobContext): Promise<void> {
    const endTimer = datasetTransformMetrics.duration().startTimer();
    try {
      const outcome = await this.batches.process(job);
      datasetTransformMetrics.jobs().inc({ status: outcome === 'embedded' ? 'success' : 'skipped' });
    } catch (error) {
      const permanent = error instanceof AppError && error.kind === 'invalid';
      datasetTransformMetrics.failures().inc({ error_type: error instanceof AppError ? error.code : 'embedding' });
      // An outage of the provider or vector store is no fault of the batch, so it waits instead of failing.
      if (!permanent && context.isLastDelivery && isDependencyOutage(error)) {
        await this.batches.deferAfterOutage(job, error);
        this.logger.warn(
          { err: error, batch_id: job.batch_id, embedder_id: job.embedder_id },
          'dependency still unavailable after the last delivery; batch deferred to the reconciler',
        );
        datasetTransformMetrics.jobs().inc({ status: 'deferred' });
        return;
      }
      if (permanent || context.isLastDelivery) {
        datasetTransformMetrics.jobs().inc({ status: 'failed' });
        await this.batches.markFailed(job, error).catch((recordError: unknown) =>
          this.logger.error({ err: recordError, batch_id: job.batch_id }, 'batch failure not recorded'),
        );
      }
      throw error;
    } finally {
      endTimer();
    }
  }
}
