import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import {
  AckPolicy,
  ConsumerConfig,
  ConsumerInfo,
  DiscardPolicy,
  JetStreamClient,
  JetStreamManager,
  RetentionPolicy,
  StorageType,
  StreamConfig,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { headers, nanos, NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { NatsConfig, redactUrlCredentials } from 'src/config/app-config';
import {
  DLQ_STREAM,
  STATUS_STREAM,
  STATUS_SUBJECTS,
  StreamNaming,
  WORK_STREAMS,
  WorkStreamDefinition,
} from 'src/platform/messaging/streams';

const DAY_MS = 24 * 60 * 60 * 1000;
const PUBLISH_ATTEMPTS = 3;

export interface StreamBacklog {
  stream: string;
  messages: number;
  oldest_message_age_secs: number | null;
  /** Pull requests waiting on the durable consumer: zero means no worker is listening. */
  waiting_pull_requests: number;
  consumer_exists: boolean;
  stalled: boolean;
}

/**
 * The NATS connection of this process, the stream definitions of the deployment, and
 * publishing with de-duplication ids. Streams are created or updated idempotently on start.
 */
@Injectable()
export class JetStreamService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(JetStreamService.name);
  private connection?: NatsConnection;
  private client?: JetStreamClient;
  private manager?: JetStreamManager;
  readonly naming: StreamNaming;

  constructor(private readonly config: NatsConfig) {
    this.naming = new StreamNaming(config.streamPrefix);
  }

  async onModuleInit(): Promise<void> {
    this.connection = await this.connectWithRetry();
    this.client = jetstream(this.connection);
    this.manager = await jetstreamManager(this.connection);
    await this.ensureStreams();
    this.logger.log({ url: redactUrlCredentials(this.config.url), prefix: this.config.streamPrefix || undefined }, 'connected to NATS');
  }

  /**
   * Connects, retrying every 2 s and logging each failure, and gives up after
   * NATS_CONNECT_TIMEOUT_SECS so a wrong NATS_URL stops the process with a message instead of
   * a silent wait. Once connected, the client reconnects on its own without limit.
   */
  private async connectWithRetry(): Promise<NatsConnection> {
    const servers = this.config.url.split(',').map((server) => server.trim());
    const deadline = Date.now() + this.config.connectTimeoutSecs * 1000;
    for (let attempt = 1; ; attempt++) {
      try {
        return await connect({ servers, name: 'semantic-explorer', maxReconnectAttempts: -1, reconnectTimeWait: 2000, timeout: 5000 });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (Date.now() + 2000 > deadline) {
          throw new Error(
            `NATS at ${redactUrlCredentials(this.config.url)} is unreachable after ${attempt} attempts (NATS_CONNECT_TIMEOUT_SECS=${this.config.connectTimeoutSecs}): ${message}`,
            { cause: error },
          );
        }
        this.logger.warn({ url: redactUrlCredentials(this.config.url), attempt, err: error }, 'NATS unreachable; retrying in 2 s');
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.connection || this.connection.isClosed()) return;
    await this.connection.drain().catch((error: unknown) => this.logger.warn({ err: error }, 'NATS drain failed'));
  }

  get jetStream(): JetStreamClient {
    if (!this.client) throw new Error('NATS is not connected yet');
    return this.client;
  }

  get jetStreamManager(): JetStreamManager {
    if (!this.manager) throw new Error('NATS is not connected yet');
    return this.manager;
  }

  isConnected(): boolean {
    return this.connection !== undefined && !this.connection.isClosed();
  }

  async ping(): Promise<number> {
    if (!this.connection) throw new Error('NATS is not connected yet');
    return this.connection.rtt();
  }

  /** Durable pull-consumer settings for a work stream; workers create or update it on start. */
  consumerConfig(definition: WorkStreamDefinition): Partial<ConsumerConfig> {
    return {
      durable_name: definition.durable,
      ack_policy: AckPolicy.Explicit,
      // With a backoff list, NATS uses its first entry as the redelivery delay after a lost worker;
      // long jobs keep their message through in-progress acks.
      ack_wait: nanos(definition.ackWaitSecs * 1000),
      max_deliver: 5,
      max_ack_pending: 100,
      backoff: this.config.retryBackoffSecs.map((seconds) => nanos(seconds * 1000)),
      filter_subject: this.naming.subject(definition.subject),
    };
  }

  async ensureStreams(): Promise<void> {
    const replicas = this.config.replicas;
    const definitions: Array<Partial<StreamConfig> & { name: string }> = [
      ...WORK_STREAMS.map((definition) => ({
        name: this.naming.stream(definition.stream),
        subjects: [this.naming.subject(definition.subject)],
        retention: RetentionPolicy.Workqueue,
        max_age: nanos(7 * DAY_MS),
        duplicate_window: nanos(60 * 60 * 1000),
      })),
      {
        name: this.naming.stream(DLQ_STREAM),
        subjects: [this.naming.subject('dlq.>')],
        retention: RetentionPolicy.Limits,
        max_age: nanos(30 * DAY_MS),
        duplicate_window: nanos(2 * 60 * 1000),
      },
      {
        name: this.naming.stream(STATUS_STREAM),
        subjects: STATUS_SUBJECTS.map((subject) => this.naming.subject(subject)),
        retention: RetentionPolicy.Limits,
        max_age: nanos(60 * 60 * 1000),
        max_msgs: 100_000,
        discard: DiscardPolicy.Old,
        duplicate_window: nanos(2 * 60 * 1000),
      },
    ];

    for (const definition of definitions) {
      const config = { ...definition, storage: StorageType.File, num_replicas: replicas };
      try {
        await this.jetStreamManager.streams.info(definition.name);
        await this.jetStreamManager.streams.update(definition.name, config);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        await this.jetStreamManager.streams.add(config);
        this.logger.log({ stream: definition.name, replicas }, 'stream created');
      }
    }
  }

  /**
   * Publishes a job with a de-duplication id: a repeat within the stream's window is dropped
   * by the server. Retries transient failures a few times before giving up.
   */
  async publishJob(subject: string, payload: object, messageId: string): Promise<void> {
    const data = JSON.stringify(payload);
    let lastError: unknown;
    for (let attempt = 1; attempt <= PUBLISH_ATTEMPTS; attempt += 1) {
      try {
        await this.jetStream.publish(this.naming.subject(subject), data, { msgID: messageId });
        return;
      } catch (error) {
        lastError = error;
        await sleep(100 * 2 ** (attempt - 1));
      }
    }
    throw new Error(`publishing to ${subject} failed after ${PUBLISH_ATTEMPTS} attempts`, { cause: lastError });
  }

  /** Publishes a status event for observers. Losing one is harmless, so failures are only logged. */
  async publishStatus(subject: string, payload: object): Promise<void> {
    try {
      await this.jetStream.publish(this.naming.subject(subject), JSON.stringify(payload));
    } catch (error) {
      this.logger.warn({ err: error, subject }, 'status event not published');
    }
  }

  /** Stores a job that failed for good in the dead-letter stream, with its error in headers. */
  async publishDeadLetter(
    definition: WorkStreamDefinition,
    data: Uint8Array,
    failure: { error: string; code?: string; deliveryCount: number; streamSequence: number },
  ): Promise<void> {
    const messageHeaders = headers();
    messageHeaders.set('Semantic-Original-Subject', definition.subject);
    messageHeaders.set('Semantic-Error', failure.error.slice(0, 2000));
    if (failure.code) messageHeaders.set('Semantic-Error-Code', failure.code);
    messageHeaders.set('Semantic-Delivery-Count', String(failure.deliveryCount));
    messageHeaders.set('Semantic-Failed-At', new Date().toISOString());
    await this.jetStream.publish(this.naming.subject(definition.dlqSubject), data, {
      headers: messageHeaders,
      msgID: `dlq-${definition.stream}-${failure.streamSequence}`,
    });
  }

  async consumerInfo(definition: WorkStreamDefinition): Promise<ConsumerInfo | null> {
    try {
      return await this.jetStreamManager.consumers.info(this.naming.stream(definition.stream), definition.durable);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** Work streams whose oldest job is older than the threshold while no worker pulls from them. */
  async backlogReport(): Promise<StreamBacklog[]> {
    const report: StreamBacklog[] = [];
    for (const definition of WORK_STREAMS) {
      const name = this.naming.stream(definition.stream);
      const info = await this.jetStreamManager.streams.info(name);
      const consumer = await this.consumerInfo(definition);
      const firstTimestamp = info.state.messages > 0 ? Date.parse(info.state.first_ts) : NaN;
      const oldest_message_age_secs = Number.isNaN(firstTimestamp) ? null : (Date.now() - firstTimestamp) / 1000;
      const waiting_pull_requests = consumer?.num_waiting ?? 0;
      report.push({
        stream: name,
        messages: info.state.messages,
        oldest_message_age_secs,
        waiting_pull_requests,
        consumer_exists: consumer !== null,
        stalled:
          oldest_message_age_secs !== null &&
          oldest_message_age_secs > this.config.stallThresholdSecs &&
          waiting_pull_requests === 0,
      });
    }
    return report;
  }
}

function isNotFound(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /not found/i.test(message);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
