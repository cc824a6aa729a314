import { DynamicModule, Module } from '@nestjs/common';
import { HEALTH_INCLUDES_BACKLOG, HealthController } from 'src/health/health.controller';
import { HealthService } from 'src/health/health.service';

@Module({})
export class HealthModule {
  /** The API reports stalled work streams; workers only their own dependencies. */
  static register(options: { includeBacklog: boolean }): DynamicModule {
    return {
      module: HealthModule,
      controllers: [HealthController],
      providers: [HealthService, { provide: HEALTH_INCLUDES_BACKLOG, useValue: options.includeBacklog }],
    };
  }
}
