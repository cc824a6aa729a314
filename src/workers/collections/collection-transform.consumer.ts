import { Controller, Logger, UsePipes, ValidationPipe } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { AppError } from 'src/common/app-error';
import { CollectionTransformJob } from 'src/collections/collection-transform.job';
import { FileProcessingService } from 'src/collection-transforms/file-processing.service';
import { JobContext } from 'src/platform/messaging/job-context';
import { JobSubject } from 'src/platform/messaging/streams';

@Controller()
export class CollectionTransformConsumer {
  private readonly logger = new Logger(CollectionTransformConsumer.name);

  constructor(private readonly processing: FileProcessingService) {}

  @EventPattern(JobSubject.CollectionTransform)
  @UsePipes(new ValidationPipe({ transform: true, forbidUnknownValues: true }))
  async handle(@Payload() job: CollectionTransformJob, @Ctx() context: JobContext): Promise<void> {
    try {
      await this.processing.process(job, context.delivery.signal);
    } catch (error) {
      const permanent = error instanceof AppError && (error.kind === 'invalid' || error.kind === 'not_found');
      if (permanent || context.isLastDelivery) {
        await this.processing.recordJobGivenUp(job, error).catch((recordError: unknown) =>
          this.logger.error({ err: recordError, job_id: job.job_id }, 'final failure not recorded'),
        );
      }
      throw error;
    }
  }
}
