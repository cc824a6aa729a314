import { Controller, Module } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { NestFactory } from '@nestjs/core';
import { INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { InvalidInputError } from 'src/common/app-error';
import { AppExceptionFilter } from 'src/common/app-exception.filter';
import { NatsConfig } from 'src/config/app-config';
import { ConfigModule } from 'src/config/config.module';
import { JobContext } from 'src/platform/messaging/job-context';
import { JetStreamServer } from 'src/platform/messaging/jetstream.server';
import { JetStreamService } from 'src/platform/messaging/jetstream.service';
import { MessagingModule } from 'src/platform/messaging/messaging.module';
import { DLQ_STREAM, JobSubject } from 'src/platform/messaging/streams';
import { TestEnvironment, waitFor } from './support/test-environment';

jest.setTimeout(120_000);

interface Delivery {
  id: string;
  deliveryCount: number;
}

// Shared with the handler, which Nest instantiates itself.
const deliveries: Delivery[] = [];
const behaviour = new Map<string, { failTimes: number; kind: 'transient' | 'invalid'; durationMs?: number }>();
let running = 0;
let maxRunning = 0;

@Controller()
class ProbeConsumer {
  @EventPattern(JobSubject.VisualizationTransform)
  async handle(@Payload() job: { id: string }, @Ctx() context: JobContext): Promise<void> {
    deliveries.push({ id: job.id, deliveryCount: context.delivery.deliveryCount });
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    try {
      const plan = behaviour.get(job.id) ?? { failTimes: 0, kind: 'transient' };
      if (plan.durationMs) await new Promise((resolve) => setTimeout(resolve, plan.durationMs));
      if (context.delivery.deliveryCount <= plan.failTimes) {
        if (plan.kind === 'invalid') throw new InvalidInputError('probe_invalid', `job ${job.id} can never succeed`);
        throw new Error(`transient failure of ${job.id}`);
      }
    } finally {
      running -= 1;
    }
  }
}

describe(JetStreamServer.name, () => {
  const environment = new TestEnvironment('transport');
  let app: INestApplication;
  let server: JetStreamServer;
  let jetStream: JetStreamService;

  beforeAll(async () => {
    const config = environment.config({ MAX_CONCURRENT_JOBS: '3', JOB_RETRY_BACKOFF_SECS: '1,1,1,1', LOG_LEVEL: 'silent' });

    @Module({
      imports: [ConfigModule.forRoot(config), MessagingModule],
      controllers: [ProbeConsumer],
      providers: [{ provide: APP_FILTER, useClass: AppExceptionFilter }],
    })
    class ProbeModule {}

    app = await NestFactory.create(ProbeModule, { logger: false });
    jetStream = app.get(JetStreamService);
    server = new JetStreamServer(jetStream, app.get(NatsConfig), 5);
    app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
    await app.init();
    await app.startAllMicroservices();
  });

  afterAll(async () => {
    await server?.close();
    await app?.close();
    await environment.destroy();
  });

  async function deadLetters(): Promise<Array<{ data: any; error: string | undefined; code: string | undefined }>> {
    const manager = jetStream.jetStreamManager;
    const stream = jetStream.naming.stream(DLQ_STREAM);
    const info = await manager.streams.info(stream);
    const found = [];
    for (let sequence = info.state.first_seq; sequence <= info.state.last_seq && info.state.messages > 0; sequence += 1) {
      const message = await manager.streams.getMessage(stream, { seq: sequence });
      if (!message) continue;
      found.push({
        data: message.json(),
        error: message.header?.get('Semantic-Error'),
        code: message.header?.get('Semantic-Error-Code') || undefined,
      });
    }
    return found;
  }

  it('acks a job that succeeds once', async () => {
    await jetStream.publishJob(JobSubject.VisualizationTransform, { id: 'ok' }, 'ok');
    await waitFor('delivery', async () => deliveries.some((delivery) => delivery.id === 'ok'));
    const consumer = await waitFor('ack', async () => {
      const info = await jetStream.consumerInfo({ stream: 'VISUALIZATION_TRANSFORMS', durable: 'visualization-transform-workers' } as never);
      return info && info.num_ack_pending === 0 && info.num_pending === 0 && info;
    });
    expect(consumer.num_redelivered).toBe(0);
  });

  it('retries a transient failure until it succeeds', async () => {
    behaviour.set('flaky', { failTimes: 2, kind: 'transient' });
    await jetStream.publishJob(JobSubject.VisualizationTransform, { id: 'flaky' }, 'flaky');
    await waitFor('third delivery', async () => deliveries.filter((delivery) => delivery.id === 'flaky').length === 3, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(deliveries.filter((delivery) => delivery.id === 'flaky').map((delivery) => delivery.deliveryCount)).toEqual([1, 2, 3]);
    expect((await deadLetters()).some((letter) => letter.data.id === 'flaky')).toBe(false);
  });

  it('moves an invalid job to the DLQ at once', async () => {
    behaviour.set('bad', { failTimes: 99, kind: 'invalid' });
    await jetStream.publishJob(JobSubject.VisualizationTransform, { id: 'bad' }, 'bad');
    const letter = await waitFor('dead letter', async () => (await deadLetters()).find((entry) => entry.data.id === 'bad'));
    expect(letter.code).toBe('probe_invalid');
    expect(letter.error).toContain('can never succeed');
    expect(deliveries.filter((delivery) => delivery.id === 'bad')).toHaveLength(1);
  });

  it('moves a job to the DLQ after the fifth delivery', async () => {
    behaviour.set('doomed', { failTimes: 99, kind: 'transient' });
    await jetStream.publishJob(JobSubject.VisualizationTransform, { id: 'doomed' }, 'doomed');
    const letter = await waitFor('dead letter', async () => (await deadLetters()).find((entry) => entry.data.id === 'doomed'), 60_000);
    expect(letter.error).toContain('transient failure of doomed');
    expect(deliveries.filter((delivery) => delivery.id === 'doomed').map((delivery) => delivery.deliveryCount)).toEqual([1, 2, 3, 4, 5]);
  });

  it('runs at most MAX_CONCURRENT_JOBS jobs at once', async () => {
    maxRunning = 0;
    for (let index = 0; index < 9; index += 1) {
      behaviour.set(`slow-${index}`, { failTimes: 0, kind: 'transient', durationMs: 300 });
      await jetStream.publishJob(JobSubject.VisualizationTransform, { id: `slow-${index}` }, `slow-${index}`);
    }
    await waitFor('all slow jobs', async () => deliveries.filter((delivery) => delivery.id.startsWith('slow-')).length === 9, 30_000);
    expect(maxRunning).toBe(3);
  });
});
