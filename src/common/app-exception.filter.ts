import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { Request, Response } from 'express';
import { throwError } from 'rxjs';
import { AppError, AppErrorKind, OverloadedError, assertNever } from 'src/common/app-error';

export interface ErrorBody {
  code: string;
  message: string;
  request_id?: string;
  details?: unknown;
}

export function statusForKind(kind: AppErrorKind): number {
  switch (kind) {
    case 'not_found':
      return HttpStatus.NOT_FOUND;
    case 'invalid':
      return HttpStatus.BAD_REQUEST;
    case 'too_large':
      return HttpStatus.PAYLOAD_TOO_LARGE;
    case 'conflict':
      return HttpStatus.CONFLICT;
    case 'forbidden':
      return HttpStatus.FORBIDDEN;
    case 'overloaded':
      return HttpStatus.TOO_MANY_REQUESTS;
    case 'unavailable':
      return HttpStatus.SERVICE_UNAVAILABLE;
    case 'internal':
      return HttpStatus.INTERNAL_SERVER_ERROR;
    default:
      return assertNever(kind, 'error kind');
  }
}

/**
 * Shapes every HTTP error body as `{code, message, request_id}`. Unknown errors become a
 * generic 500 whose cause is logged with the request id. In job handlers (RPC context) the
 * original error passes through unchanged, so the JetStream transport can decide between
 * retry and dead-letter from its kind.
 */
@Catch()
export class AppExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(AppExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost) {
    if (host.getType() === 'rpc') return throwError(() => exception);

    const http = host.switchToHttp();
    const request = http.getRequest<Request & { id?: string }>();
    const response = http.getResponse<Response>();
    const requestId = typeof request.id === 'string' ? request.id : undefined;
    const { status, body } = this.toResponse(exception, requestId);

    if (status >= 500) {
      this.logger.error({ err: exception, request_id: requestId, path: request.url }, 'request failed');
    }
    if (exception instanceof OverloadedError) {
      response.setHeader('Retry-After', String(exception.retryAfterSecs));
    }
    this.send(response, status, body);
    return undefined;
  }

  /** Writes the error body; a subclass may reshape it for clients that expect another format. */
  protected send(response: Response, status: number, body: ErrorBody): void {
    response.status(status).json(body);
  }

  private toResponse(exception: unknown, requestId?: string): { status: number; body: ErrorBody } {
    if (exception instanceof AppError) {
      const status = statusForKind(exception.kind);
      const message = exception.kind === 'internal' ? 'internal error' : exception.message;
      return { status, body: { code: exception.code, message, request_id: requestId, details: exception.details } };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const raw = exception.getResponse();
      const messages = typeof raw === 'object' && raw !== null ? (raw as { message?: unknown }).message : raw;
      const message = Array.isArray(messages) ? messages.join('; ') : String(messages ?? exception.message);
      const code = status === HttpStatus.BAD_REQUEST ? 'validation_failed' : httpCode(status);
      return {
        status,
        body: { code, message, request_id: requestId, details: Array.isArray(messages) ? messages : undefined },
      };
    }
    const clientError = asClientError(exception);
    if (clientError) {
      return { status: clientError.status, body: { code: clientError.code, message: clientError.message, request_id: requestId } };
    }
    return {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      body: { code: 'internal_error', message: 'internal error; quote the request id when reporting it', request_id: requestId },
    };
  }
}

/**
 * Errors that Express's body parser raises for a bad request (body too large, invalid
 * encoding, malformed JSON) carry a 4xx `status` and `expose: true`, as the http-errors
 * package defines them.
 */
function asClientError(exception: unknown): { status: number; code: string; message: string } | undefined {
  const candidate = exception as { status?: unknown; expose?: unknown; type?: unknown; message?: unknown };
  if (typeof candidate !== 'object' || candidate === null) return undefined;
  if (typeof candidate.status !== 'number' || candidate.status < 400 || candidate.status >= 500 || candidate.expose !== true) {
    return undefined;
  }
  const code = typeof candidate.type === 'string' ? candidate.type.replace(/\./g, '_') : httpCode(candidate.status);
  return { status: candidate.status, code, message: String(candidate.message) };
}

function httpCode(status: number): string {
  const name = HttpStatus[status];
  return typeof name === 'string' ? name.toLowerCase() : `http_${status}`;
}
