import 'reflect-metadata';
import { Logger as NestLogger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { NextFunction, Request, Response } from 'express';
import { AppModule, rolesConsumeJobs } from 'src/app.module';
import { rejectDeepJson } from 'src/common/json-depth.middleware';
import { AppConfig, ConfigValidationError, loadConfig } from 'src/config/app-config';
import { JetStreamServer } from 'src/platform/messaging/jetstream.server';
import { JetStreamService } from 'src/platform/messaging/jetstream.service';
import { httpMetricsMiddleware } from 'src/platform/observability/http-metrics.middleware';

export interface RunningApp {
  app: NestExpressApplication;
  jobServer?: JetStreamServer;
  url: string;
  /** Stops taking work, finishes jobs in progress within SHUTDOWN_TIMEOUT_SECS, then closes. */
  shutdown(): Promise<void>;
}

/** Builds and starts the process for the roles in `config`; used by `main` and by tests. */
export async function startApp(config: AppConfig): Promise<RunningApp> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoles(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  // Logs written while modules start (NATS retries, for example) must appear even when the
  // start fails, so they are not held back until the server listens.
  app.flushLogs();
  app.disable('x-powered-by');
  app.use(securityHeaders);
  app.use(httpMetricsMiddleware);
  // Embedding requests and pushed vectors are larger than body-parser's 100 kB default.
  app.useBodyParser('json', { limit: `${config.server.maxJsonBodyMb}mb` });
  app.use(rejectDeepJson);
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));

  if (config.roles.includes('api') || config.roles.includes('inference')) {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Semantic Explorer')
        .setDescription('Document ingestion, embedding and semantic search')
        .setVersion('0.1.0')
        .build(),
    );
    SwaggerModule.setup('swagger-ui', app, document, { jsonDocumentUrl: 'openapi.json' });
  }

  let jobServer: JetStreamServer | undefined;
  if (rolesConsumeJobs(config.roles)) {
    jobServer = new JetStreamServer(app.get(JetStreamService), config.nats, config.server.shutdownTimeoutSecs);
    app.connectMicroservice({ strategy: jobServer }, { inheritAppConfig: true });
  }
  // Modules (database, NATS streams) must be up before the transport creates its consumers.
  await app.init();
  if (jobServer) {
    await app.startAllMicroservices();
  }

  const port = listenPort(config);
  await app.listen(port, config.server.hostname);
  const url = await app.getUrl();

  let closing: Promise<void> | undefined;
  const shutdown = () => {
    closing ??= (async () => {
      await jobServer?.close();
      await app.close();
    })();
    return closing;
  };
  return { app, jobServer, url, shutdown };
}

/**
 * Returns the port to listen on. A process running one role that has a port of its own
 * listens there: the visualization worker on HEALTH_CHECK_PORT, the inference role on
 * INFERENCE_PORT.
 */
function listenPort(config: AppConfig): number {
  if (config.roles.length === 1 && config.roles[0] === 'worker-viz') return config.server.healthCheckPort;
  if (config.roles.length === 1 && config.roles[0] === 'inference') return config.inference.port;
  return config.server.port;
}

function securityHeaders(_request: Request, response: Response, next: NextFunction): void {
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('X-Frame-Options', 'DENY');
  response.setHeader('Referrer-Policy', 'strict-origin-when-cross-origin');
  next();
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    console.error(error instanceof ConfigValidationError ? error.message : error);
    process.exit(1);
  }

  const running = await startApp(config);
  // A named logger keeps the text in `message`; the root pino logger would read it as the context.
  const logger = new NestLogger('Main');
  logger.log({ roles: config.roles, url: running.url }, 'semantic explorer started');

  const onSignal = (signal: NodeJS.Signals) => {
    logger.log({ signal }, 'shutting down');
    // A hung dependency must not keep the pod past its grace period.
    setTimeout(() => process.exit(1), (config.server.shutdownTimeoutSecs + 10) * 1000).unref();
    running.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

if (require.main === module) {
  void main().catch((error: unknown) => {
    console.error('start-up failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
