import { HttpException, Logger } from '@nestjs/common';
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { Consumer, JsMsg } from '@nats-io/jetstream';
import { lastValueFrom } from 'rxjs';
import { AppError } from 'src/common/app-error';
import { NatsConfig } from 'src/config/app-config';
import { JobContext } from 'src/platform/messaging/job-context';
import { JetStreamService } from 'src/platform/messaging/jetstream.service';
import { workStreamForSubject, WorkStreamDefinition } from 'src/platform/messaging/streams';
import { workerMetrics } from 'src/platform/observability/metrics';

const FETCH_EXPIRES_MS = 5000;
const MAX_DELIVER = 5;

interface RunningJob {
  message: JsMsg;
  abort: AbortController;
  done: Promise<void>;
}

/**
 * A Nest microservice transport over JetStream durable pull consumers. Handlers are
 * `@EventPattern(JobSubject.X)` methods; this class owns acks, in-progress acks, retries
 * with the configured backoff, and the dead-letter stream. A handler that returns acks the
 * job. An error of kind `invalid` or `not_found` (or a 4xx HTTP exception) goes to the DLQ at
 * once. Any other error is retried and goes to the DLQ after the last delivery.
 */
export class JetStreamServer extends Server implements CustomTransportStrategy {
  private readonly workerLogger = new Logger('JetStreamServer');
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  private readonly running = new Set<RunningJob>();
  private readonly wakeUps = new Map<string, () => void>();

  constructor(
    private readonly jetStream: JetStreamService,
    private readonly config: NatsConfig,
    private readonly shutdownTimeoutSecs: number,
  ) {
    super();
  }

  on(): void {
    throw new Error('JetStreamServer does not emit events');
  }

  unwrap<T>(): T {
    return this.jetStream as T;
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      const subjects = [...this.messageHandlers.keys()];
      for (const subject of subjects) {
        const definition = workStreamForSubject(subject);
        const consumer = await this.ensureConsumer(definition);
        this.loops.push(this.pullLoop(definition, consumer));
        workerMetrics.ready().set({ worker: definition.durable }, 1);
        this.workerLogger.log(`pulling ${definition.subject} as ${definition.durable}`);
      }
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /**
   * Stops fetching, waits up to SHUTDOWN_TIMEOUT_SECS for jobs in progress, then hands the
   * rest back to NATS for another worker.
   */
  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.wakeUps.forEach((wake) => wake());
    await Promise.all(this.loops);

    const deadline = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), this.shutdownTimeoutSecs * 1000).unref(),
    );
    const allDone = Promise.all([...this.running].map((job) => job.done)).then(() => 'done' as const);
    if ((await Promise.race([allDone, deadline])) === 'timeout') {
      for (const job of this.running) {
        job.abort.abort(new Error('worker is shutting down'));
        job.message.nak();
      }
      this.workerLogger.warn({ handedBack: this.running.size }, 'shutdown timeout reached; unfinished jobs handed back');
    }
  }

  get inFlight(): number {
    return this.running.size;
  }

  private async ensureConsumer(definition: WorkStreamDefinition): Promise<Consumer> {
    const stream = this.jetStream.naming.stream(definition.stream);
    const consumerConfig = this.jetStream.consumerConfig(definition);
    const manager = this.jetStream.jetStreamManager;
    const existing = await this.jetStream.consumerInfo(definition);
    if (existing) {
      await manager.consumers.update(stream, definition.durable, consumerConfig);
    } else {
      await manager.consumers.add(stream, consumerConfig);
    }
    return this.jetStream.jetStream.consumers.get(stream, definition.durable);
  }

  private async pullLoop(definition: WorkStreamDefinition, initialConsumer: Consumer): Promise<void> {
    const limit = this.config.maxConcurrentJobs;
    let consumer = initialConsumer;
    let active = 0;

    while (!this.stopping) {
      if (active >= limit) {
        await new Promise<void>((resolve) => this.wakeUps.set(definition.subject, resolve));
        continue;
      }
      try {
        const messages = await consumer.fetch({ max_messages: limit - active, expires: FETCH_EXPIRES_MS });
        for await (const message of messages) {
          if (this.stopping) {
            message.nak();
            continue;
          }
          active += 1;
          workerMetrics.activeJobs().inc({ worker: definition.durable });
          const job = this.startJob(definition, message);
          void job.done.finally(() => {
            active -= 1;
            workerMetrics.activeJobs().dec({ worker: definition.durable });
            this.wakeUps.get(definition.subject)?.();
          });
        }
      } catch (error) {
        if (this.stopping) break;
        this.workerLogger.warn({ err: error, subject: definition.subject }, 'fetching jobs failed; retrying');
        await sleep(2000);
        consumer = await this.ensureConsumer(definition).catch(() => consumer);
      }
    }
    workerMetrics.ready().set({ worker: definition.durable }, 0);
  }

  private startJob(definition: WorkStreamDefinition, message: JsMsg): RunningJob {
    const abort = new AbortController();
    const job: RunningJob = { message, abort, done: Promise.resolve() };
    job.done = this.runJob(definition, message, abort).finally(() => this.running.delete(job));
    this.running.add(job);
    return job;
  }

  private async runJob(definition: WorkStreamDefinition, message: JsMsg, abort: AbortController): Promise<void> {
    const deliveryCount = message.info.deliveryCount;
    const streamSequence = message.info.streamSequence;
    const log = { subject: definition.subject, delivery: deliveryCount, stream_seq: streamSequence };

    let payload: unknown;
    try {
      payload = message.json();
    } catch {
      await this.deadLetter(definition, message, 'message body is not valid JSON', 'invalid_json');
      return;
    }

    // NATS redelivers a job whose worker goes quiet for the first backoff interval, so a long
    // job reports progress well within it.
    const quietLimitMs = Math.min(definition.ackWaitSecs, this.config.retryBackoffSecs[0] ?? definition.ackWaitSecs) * 1000;
    const heartbeat = setInterval(() => message.working(), Math.max(1000, Math.floor(quietLimitMs / 3)));
    const timeout = setTimeout(
      () => abort.abort(new Error(`job exceeded PROCESSING_TIMEOUT_SECS (${this.config.processingTimeoutSecs} s)`)),
      this.config.processingTimeoutSecs * 1000,
    );

    const started = Date.now();
    try {
      const handler = this.getHandlerByPattern(definition.subject);
      if (!handler) throw new Error(`no handler is registered for ${definition.subject}`);
      const context = new JobContext([
        { subject: definition.subject, deliveryCount, maxDeliver: MAX_DELIVER, streamSequence, signal: abort.signal },
      ]);
      const outcome = handler(payload, context);
      const aborted = new Promise<never>((_, reject) => {
        abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true });
      });
      await Promise.race([lastValueFrom(this.transformToObservable(await outcome), { defaultValue: undefined }), aborted]);
      message.ack();
      this.workerLogger.debug({ ...log, duration_ms: Date.now() - started }, 'job done');
    } catch (error) {
      const failure = describeFailure(error);
      if (failure.permanent || deliveryCount >= MAX_DELIVER) {
        this.workerLogger.error({ ...log, err: error, code: failure.code }, 'job failed for good; moved to the DLQ');
        await this.deadLetter(definition, message, failure.message, failure.code);
      } else {
        const backoff = this.config.retryBackoffSecs;
        const backoffMs = (backoff[Math.min(deliveryCount - 1, backoff.length - 1)] ?? 30) * 1000;
        // An open circuit breaker states when calls resume; retrying sooner only spends a delivery.
        const delayMs = Math.max(backoffMs, failure.retryAfterMs ?? 0);
        this.workerLogger.warn({ ...log, err: error, retry_in_secs: Math.round(delayMs / 1000) }, 'job failed; will retry');
        workerMetrics.retries().inc({ worker: definition.durable });
        message.nak(delayMs);
      }
    } finally {
      clearInterval(heartbeat);
      clearTimeout(timeout);
    }
  }

  private async deadLetter(definition: WorkStreamDefinition, message: JsMsg, error: string, code?: string): Promise<void> {
    try {
      await this.jetStream.publishDeadLetter(definition, message.data, {
        error,
        code,
        deliveryCount: message.info.deliveryCount,
        streamSequence: message.info.streamSequence,
      });
      workerMetrics.deadLetters().inc({ worker: definition.durable, reason: code ?? 'error' });
      message.ack();
    } catch (publishError) {
      // Without a DLQ copy the job must not disappear: let NATS deliver it again later.
      this.workerLogger.error({ err: publishError, subject: definition.subject }, 'DLQ publish failed; job kept');
      message.nak(30_000);
    }
  }
}

function describeFailure(error: unknown): { permanent: boolean; code?: string; message: string; retryAfterMs?: number } {
  if (error instanceof AppError) {
    const retryInMs = error.details?.retryInMs;
    return {
      permanent: error.kind === 'invalid' || error.kind === 'not_found',
      code: error.code,
      message: error.message,
      retryAfterMs: typeof retryInMs === 'number' && retryInMs > 0 ? retryInMs : undefined,
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    return { permanent: status >= 400 && status < 500, code: `http_${status}`, message: JSON.stringify(error.getResponse()) };
  }
  return { permanent: false, message: error instanceof Error ? error.message : String(error) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
