import { DynamicModule, Module } from '@nestjs/common';
import { HEALTH_INCLUDES_BACKLOG, HealthController } from 'src/health/health.controller';
import { HealthService } from 'src/health/health.service';
import { InferenceModule } from 'src/inference/inference.module';

@Module({})
export class HealthModule {
  /**
   * The API reports stalled work streams; workers only their own dependencies. With
   * `inference`, readiness also waits for the preloaded models.
   */
  static register(options: { includeBacklog: boolean; inference: boolean }): DynamicModule {
    return {
      module: HealthModule,
      imports: options.inference ? [InferenceModule] : [],
      controllers: [HealthController],
      providers: [HealthService, { provide: HEALTH_INCLUDES_BACKLOG, useValue: options.includeBacklog }],
    };
  }
}
