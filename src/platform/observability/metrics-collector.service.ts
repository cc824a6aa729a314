import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JetStreamService } from 'src/platform/messaging/jetstream.service';
import { WORK_STREAMS } from 'src/platform/messaging/streams';
import { databaseMetrics, natsMetrics } from 'src/platform/observability/metrics';

const COLLECT_INTERVAL_MS = 15_000;

interface PgPool {
  totalCount: number;
  idleCount: number;
}

/** Refreshes gauges that describe shared state: stream depths, consumer backlogs, the connection pool. */
@Injectable()
export class MetricsCollector implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsCollector.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly jetStream: JetStreamService,
    private readonly dataSource: DataSource,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.collect(), COLLECT_INTERVAL_MS);
    this.timer.unref();
    void this.collect();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async collect(): Promise<void> {
    const pool = (this.dataSource.driver as unknown as { master?: PgPool }).master;
    if (pool) {
      databaseMetrics.poolActive().set(pool.totalCount - pool.idleCount);
      databaseMetrics.poolIdle().set(pool.idleCount);
    }
    if (!this.jetStream.isConnected()) return;
    try {
      for (const definition of WORK_STREAMS) {
        const stream = this.jetStream.naming.stream(definition.stream);
        const info = await this.jetStream.jetStreamManager.streams.info(stream);
        natsMetrics.streamMessages().set({ stream }, info.state.messages);
        const consumer = await this.jetStream.consumerInfo(definition);
        if (consumer) {
          natsMetrics.consumerPending().set({ stream, consumer: definition.durable }, consumer.num_pending);
          natsMetrics.consumerAckPending().set({ stream, consumer: definition.durable }, consumer.num_ack_pending);
        }
      }
    } catch (error) {
      this.logger.debug({ err: error }, 'stream metrics not collected');
    }
  }
}
