import { AppError } from 'src/common/app-error';
import { ProviderHttpError, ProviderTimeoutError, parseRetryAfter } from 'src/embedders/resilience/provider-errors';
import { RetryOptions, backoffDelay, withRetry } from 'src/embedders/resilience/retry';

const silentLogger = { warn: () => undefined };

describe('withRetry', () => {
  let sleeps: number[];
  let options: RetryOptions;

  beforeEach(() => {
    sleeps = [];
    options = {
      provider: 'Test',
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
      logger: silentLogger,
    };
  });

  async function rejection(promise: Promise<unknown>): Promise<AppError> {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }

  it('stops after six attempts by default', async () => {
    let calls = 0;
    const call = async (): Promise<number[]> => {
      calls += 1;
      throw new ProviderHttpError('Test', 500, 'boom');
    };

    const error = await rejection(withRetry([1], call, options));

    expect(error.code).toBe('embedder_unavailable');
    expect(error.message).toBe('Test returned 500: boom, gave up after 6 attempts');
    expect(calls).toBe(6);
    expect(sleeps).toEqual([250, 500, 1000, 2000, 4000]);
  });

  it('reports an exhausted 429 as rate limited', async () => {
    const call = async (): Promise<number[]> => {
      throw new ProviderHttpError('Test', 429, 'slow down');
    };

    const error = await rejection(withRetry([1], call, { ...options, maxAttempts: 2 }));

    expect(error.kind).toBe('unavailable');
    expect(error.code).toBe('embedder_rate_limited');
  });

  it('gives up on a Retry-After over the maximum', async () => {
    const call = async (): Promise<number[]> => {
      throw new ProviderHttpError('Test', 429, 'quota', 120_000);
    };

    const error = await rejection(withRetry([1], call, options));

    expect(error.code).toBe('embedder_rate_limited');
    expect(error.details).toMatchObject({ retryAfterMs: 120_000 });
    expect(sleeps).toEqual([]);
  });

  it('retries 408 but not 404', async () => {
    let calls = 0;
    const call = async (): Promise<number[]> => {
      calls += 1;
      throw new ProviderHttpError('Test', calls === 1 ? 408 : 404, 'not found');
    };

    const error = await rejection(withRetry([1], call, options));

    expect(error.code).toBe('embedder_rejected');
    expect(error.details).toMatchObject({ status: 404 });
    expect(calls).toBe(2);
  });

  it('passes other errors through untouched', async () => {
    const original = new AppError('unavailable', 'embedder_circuit_open', 'open');
    let calls = 0;
    const call = async (): Promise<number[]> => {
      calls += 1;
      throw original;
    };

    await expect(withRetry([1], call, options)).rejects.toBe(original);
    expect(calls).toBe(1);
  });

  it('halves repeatedly on timeouts', async () => {
    const batches: number[][] = [];
    const call = async (batch: number[]): Promise<string[]> => {
      batches.push(batch);
      if (batch.length > 1) {
        throw new ProviderTimeoutError('Test', 100);
      }
      return batch.map((item) => `v${item}`);
    };

    const result = await withRetry([1, 2, 3], call, options);

    expect(result).toEqual(['v1', 'v2', 'v3']);
    expect(batches).toEqual([[1, 2, 3], [1, 2], [1], [2], [3]]);
    expect(sleeps).toEqual([]);
  });

  it('halves a batch the server rejects as too large', async () => {
    const batches: number[][] = [];
    const call = async (batch: number[]): Promise<string[]> => {
      batches.push(batch);
      if (batch.length > 2) {
        throw new ProviderHttpError('Test', 413, 'request has 4 texts; at most 2 per request');
      }
      return batch.map((item) => `v${item}`);
    };

    const result = await withRetry([1, 2, 3, 4], call, options);

    expect(result).toEqual(['v1', 'v2', 'v3', 'v4']);
    expect(batches).toEqual([[1, 2, 3, 4], [1, 2], [3, 4]]);
  });

  it('rejects one input the server finds too large', async () => {
    const call = async (): Promise<number[]> => {
      throw new ProviderHttpError('Test', 413, 'input too large');
    };

    const error = await rejection(withRetry([1], call, options));

    expect(error.code).toBe('embedder_rejected');
  });

  it('retries a single-input timeout then fails', async () => {
    const call = async (): Promise<number[]> => {
      throw new ProviderTimeoutError('Test', 100);
    };

    const error = await rejection(withRetry([1], call, { ...options, maxAttempts: 3 }));

    expect(error.code).toBe('embedder_timeout');
    expect(sleeps).toHaveLength(2);
  });
});

describe('backoffDelay', () => {
  it('doubles the ceiling up to the cap', () => {
    const top = { random: () => 0.999999 };

    expect(backoffDelay(1, top)).toBe(499);
    expect(backoffDelay(2, top)).toBe(999);
    expect(backoffDelay(7, top)).toBe(29_999);
    expect(backoffDelay(20, top)).toBe(29_999);
    expect(backoffDelay(3, { random: () => 0 })).toBe(0);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2025, 5, 1, 8, 0, 0);

  it('reads seconds', () => {
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter(' 1.5 ', now)).toBe(1500);
  });

  it('reads an HTTP date', () => {
    expect(parseRetryAfter(new Date(now + 4000).toUTCString(), now)).toBe(4000);
    expect(parseRetryAfter(new Date(now - 4000).toUTCString(), now)).toBe(0);
  });

  it('ignores missing or invalid values', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-3', now)).toBeUndefined();
  });
});
