import { randomUUID } from 'node:crypto';
import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { ServerConfig } from 'src/config/app-config';

/** Structured logs through pino: JSON by default, readable lines with LOG_FORMAT=pretty. */
@Module({})
export class LoggingModule {
  static forRoot(server: ServerConfig, roles: string[]): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: server.logLevel,
            base: { service: server.serviceName, role: roles.join(',') },
            messageKey: 'message',
            timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
            transport: server.logFormat === 'pretty' ? { target: 'pino-pretty', options: { messageKey: 'message' } } : undefined,
            genReqId: (request, response) => {
              const incoming = request.headers['x-request-id'];
              const id = typeof incoming === 'string' && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
              response.setHeader('x-request-id', id);
              return id;
            },
            customAttributeKeys: { reqId: 'request_id', responseTime: 'duration_ms' },
            // Probes and scrapes would drown everything else.
            autoLogging: { ignore: (request) => /^\/(health|metrics)/.test(request.url ?? '') },
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], remove: true },
            serializers: {
              req: (request: { id: string; method: string; url: string }) => ({ id: request.id, method: request.method, url: request.url }),
              res: (response: { statusCode: number }) => ({ status: response.statusCode }),
            },
          },
        }),
      ],
    };
  }
}
