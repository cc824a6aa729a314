import { ArgumentsHost, BadRequestException, NotFoundException } from '@nestjs/common';
import { lastValueFrom, Observable } from 'rxjs';
import { ConflictError, InvalidInputError, NotFoundError } from 'src/common/app-error';
import { AppExceptionFilter } from 'src/common/app-exception.filter';

interface CapturedResponse {
  statusCode?: number;
  body?: unknown;
}

function httpHost(captured: CapturedResponse): ArgumentsHost {
  const response = {
    status(code: number) {
      captured.statusCode = code;
      return this;
    },
    json(body: unknown) {
      captured.body = body;
    },
  };
  return {
    getType: () => 'http',
    switchToHttp: () => ({ getRequest: () => ({ id: 'req-1', url: '/x' }), getResponse: () => response }),
  } as unknown as ArgumentsHost;
}

describe(AppExceptionFilter.name, () => {
  const sut = new AppExceptionFilter();

  it.each([
    [new NotFoundError('collection_not_found', 'collection 1 not found'), 404, 'collection_not_found'],
    [new InvalidInputError('invalid_filter', 'cannot filter on "x"'), 400, 'invalid_filter'],
    [new ConflictError('embedder_in_use', 'embedder 1 is used'), 409, 'embedder_in_use'],
    [new BadRequestException(['title should not be empty']), 400, 'validation_failed'],
    [new NotFoundException(), 404, 'not_found'],
  ])('maps %s to its status and code', (error, status, code) => {
    const captured: CapturedResponse = {};
    sut.catch(error, httpHost(captured));
    expect(captured.statusCode).toBe(status);
    expect(captured.body).toMatchObject({ code, request_id: 'req-1' });
  });

  it('keeps the status of body parser errors', () => {
    const captured: CapturedResponse = {};
    const tooLarge = Object.assign(new Error('request entity too large'), { status: 413, expose: true, type: 'entity.too.large' });
    sut.catch(tooLarge, httpHost(captured));
    expect(captured.statusCode).toBe(413);
    expect(captured.body).toMatchObject({ code: 'entity_too_large', message: 'request entity too large' });
  });

  it('hides the details of unknown errors', () => {
    const captured: CapturedResponse = {};
    sut.catch(new Error('password=hunter2 in connection string'), httpHost(captured));
    expect(captured.statusCode).toBe(500);
    expect(JSON.stringify(captured.body)).not.toContain('hunter2');
    expect(captured.body).toMatchObject({ code: 'internal_error' });
  });

  it('passes errors through unchanged in job handlers', async () => {
    const error = new InvalidInputError('bad_job', 'bad job');
    const host = { getType: () => 'rpc' } as unknown as ArgumentsHost;
    const result = sut.catch(error, host) as Observable<never>;
    await expect(lastValueFrom(result)).rejects.toBe(error);
  });
});
