import { Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ModelRegistry, ModelStatus } from 'src/inference/model-registry.service';
import { JetStreamService, StreamBacklog } from 'src/platform/messaging/jetstream.service';
import { BlobStore } from 'src/platform/storage/blob-store';
import { VectorStore } from 'src/platform/vectors/vector-store';

export interface ComponentHealth {
  status: 'healthy' | 'degraded' | 'unhealthy';
  latency_ms: number;
  error?: string;
}

export interface ReadinessReport {
  status: 'healthy' | 'degraded' | 'unhealthy';
  components: Record<string, ComponentHealth>;
  streams?: StreamBacklog[];
  models?: ModelStatus[];
}

/**
 * Readiness of the dependencies this process uses. A process that runs only the inference
 * role has no Postgres, NATS or stores, so each dependency is optional.
 */
@Injectable()
export class HealthService {
  constructor(
    @Optional() private readonly dataSource?: DataSource,
    @Optional() private readonly jetStream?: JetStreamService,
    @Optional() private readonly blobs?: BlobStore,
    @Optional() private readonly vectors?: VectorStore,
    @Optional() private readonly models?: ModelRegistry,
  ) {}

  /**
   * Checks Postgres, NATS, blob and vector stores, and that the preloaded models are loaded.
   * With `includeBacklog`, a work stream whose oldest job waits longer than
   * STREAM_STALL_THRESHOLD_SECS while no worker pulls from it marks the report degraded (not
   * unhealthy: the API itself still serves).
   */
  async readiness(includeBacklog: boolean): Promise<ReadinessReport> {
    const { dataSource, jetStream, blobs, vectors, models } = this;
    const components: Record<string, ComponentHealth> = {};
    if (dataSource) components.postgres = await measure(() => dataSource.query('SELECT 1'));
    if (jetStream) components.nats = await measure(() => jetStream.ping());
    if (blobs) components.blob_store = await measure(() => blobs.checkHealth());
    if (vectors) components.vector_store = await measure(() => vectors.checkHealth());
    if (models) {
      components.models = models.isReady()
        ? { status: 'healthy', latency_ms: 0 }
        : { status: 'unhealthy', latency_ms: 0, error: `preloaded models not ready: ${models.describeUnreadiness()}` };
    }
    let status: ReadinessReport['status'] = Object.values(components).some((c) => c.status === 'unhealthy')
      ? 'unhealthy'
      : 'healthy';

    let streams: StreamBacklog[] | undefined;
    if (includeBacklog && jetStream && components.nats.status === 'healthy') {
      try {
        streams = await jetStream.backlogReport();
        if (status === 'healthy' && streams.some((stream) => stream.stalled)) status = 'degraded';
      } catch (error) {
        components.nats = { status: 'degraded', latency_ms: 0, error: `stream backlog unknown: ${(error as Error).message}` };
        if (status === 'healthy') status = 'degraded';
      }
    }
    return { status, components, streams, models: models?.statuses() };
  }
}

async function measure(check: () => Promise<unknown>): Promise<ComponentHealth> {
  const started = Date.now();
  try {
    await withTimeout(check(), 5000);
    return { status: 'healthy', latency_ms: Date.now() - started };
  } catch (error) {
    return { status: 'unhealthy', latency_ms: Date.now() - started, error: error instanceof Error ? error.message : String(error) };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
