import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
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
}

/** Readiness of the dependencies this process uses. */
@Injectable()
export class HealthService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly jetStream: JetStreamService,
    private readonly blobs: BlobStore,
    private readonly vectors: VectorStore,
  ) {}

  /**
   * Checks Postgres, NATS, blob and vector stores. With `includeBacklog`, a work stream whose
   * oldest job waits longer than STREAM_STALL_THRESHOLD_SECS while no worker pulls from it
   * marks the report degraded (not unhealthy: the API itself still serves).
   */
  async readiness(includeBacklog: boolean): Promise<ReadinessReport> {
    const components: Record<string, ComponentHealth> = {
      postgres: await measure(() => this.dataSource.query('SELECT 1')),
      nats: await measure(() => this.jetStream.ping()),
      blob_store: await measure(() => this.blobs.checkHealth()),
      vector_store: await measure(() => this.vectors.checkHealth()),
    };
    let status: ReadinessReport['status'] = Object.values(components).some((c) => c.status === 'unhealthy')
      ? 'unhealthy'
      : 'healthy';

    let streams: StreamBacklog[] | undefined;
    if (includeBacklog && components.nats.status === 'healthy') {
      try {
        streams = await this.jetStream.backlogReport();
        if (status === 'healthy' && streams.some((stream) => stream.stalled)) status = 'degraded';
      } catch (error) {
        components.nats = { status: 'degraded', latency_ms: 0, error: `stream backlog unknown: ${(error as Error).message}` };
        if (status === 'healthy') status = 'degraded';
      }
    }
    return { status, components, streams };
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
