import { DynamicModule, Module, Provider, Type } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { register } from 'prom-client';
import { AppExceptionFilter } from 'src/common/app-exception.filter';
import { AppConfig, rolesNeedPlatform } from 'src/config/app-config';
import { ConfigModule } from 'src/config/config.module';
import { Role } from 'src/config/roles';
import { CollectionsModule } from 'src/collections/collections.module';
import { CollectionTransformsModule } from 'src/collection-transforms/collection-transforms.module';
import { DatasetsModule } from 'src/datasets/datasets.module';
import { DatasetTransformsModule } from 'src/dataset-transforms/dataset-transforms.module';
import { EmbeddedDatasetsModule } from 'src/embedded-datasets/embedded-datasets.module';
import { EmbeddersModule } from 'src/embedders/embedders.module';
import { HealthModule } from 'src/health/health.module';
import { InferenceModule } from 'src/inference/inference.module';
import { DatabaseModule } from 'src/platform/database/database.module';
import { MessagingModule } from 'src/platform/messaging/messaging.module';
import { LoggingModule } from 'src/platform/observability/logging.module';
import { MetricsCollector } from 'src/platform/observability/metrics-collector.service';
import { StorageModule } from 'src/platform/storage/storage.module';
import { VectorsModule } from 'src/platform/vectors/vectors.module';
import { SearchModule } from 'src/search/search.module';
import { CollectionTransformConsumer } from 'src/workers/collections/collection-transform.consumer';
import { DatasetTransformConsumer } from 'src/workers/datasets/dataset-transform.consumer';
import { PipelineReconciler } from 'src/workers/pipeline-reconciler.service';

interface RoleWiring {
  /** Serves the REST API, OpenAPI and search. */
  http: boolean;
  /** Job handlers (`@EventPattern`) this role runs; the JetStream transport pulls their subjects. */
  consumers: Type[];
  providers: Provider[];
}

// Limitation: worker-viz starts with health and metrics only; its jobs are not built yet.
const ROLE_WIRING: Record<Role, RoleWiring> = {
  api: { http: true, consumers: [], providers: [] },
  'worker-collections': { http: false, consumers: [CollectionTransformConsumer], providers: [PipelineReconciler] },
  'worker-datasets': { http: false, consumers: [DatasetTransformConsumer], providers: [PipelineReconciler] },
  'worker-viz': { http: false, consumers: [], providers: [] },
  inference: { http: false, consumers: [], providers: [] },
};

function defaultMetricsRegistered(): boolean {
  return register.getSingleMetric('process_cpu_user_seconds_total') !== undefined;
}

export function rolesConsumeJobs(roles: Role[]): boolean {
  return roles.some((role) => ROLE_WIRING[role].consumers.length > 0);
}

/** The module graph of one process: shared platform modules plus what each selected role adds. */
@Module({})
export class AppModule {
  static forRoles(config: AppConfig): DynamicModule {
    const wiring = config.roles.map((role) => ROLE_WIRING[role]);
    const http = wiring.some((role) => role.http);
    const consumers = [...new Set(wiring.flatMap((role) => role.consumers))];
    const roleProviders = [...new Set(wiring.flatMap((role) => role.providers))];
    const inference = config.roles.includes('inference');
    // The inference role alone runs without Postgres, NATS and stores, as a GPU pod should.
    const platform = rolesNeedPlatform(config.roles);

    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config.server, config.roles),
        // A second application in the same process (tests run several) shares the default metrics.
        PrometheusModule.register({ path: '/metrics', defaultMetrics: { enabled: !defaultMetricsRegistered() } }),
        HealthModule.register({ includeBacklog: http, inference }),
        ...(inference ? [InferenceModule] : []),
        ...(platform
          ? [
              DatabaseModule,
              MessagingModule,
              StorageModule,
              VectorsModule,
              EmbeddersModule.register({ http }),
              EmbeddedDatasetsModule.register({ http }),
              DatasetsModule.register({ http }),
              DatasetTransformsModule.register({ http }),
              CollectionsModule.register({ http }),
              CollectionTransformsModule.register({ http }),
            ]
          : []),
        ...(http ? [SearchModule] : []),
      ],
      controllers: consumers,
      providers: [
        { provide: APP_FILTER, useClass: AppExceptionFilter },
        ...(platform ? [MetricsCollector] : []),
        ...(roleProviders as Provider[]),
      ],
    };
  }
}
