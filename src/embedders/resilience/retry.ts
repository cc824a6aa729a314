import { Logger } from '@nestjs/common';
import { InvalidInputError, UnavailableError } from 'src/common/app-error';
import {
  ProviderHttpError,
  ProviderNetworkError,
  ProviderTimeoutError,
  isRetryableStatus,
} from 'src/embedders/resilience/provider-errors';
import { Sleep, WarningLogger, realSleep } from 'src/embedders/resilience/timing';

export interface RetryOptions {
  /** Provider name used in log lines and error messages, for example "OpenAI". */
  provider: string;
  /** Maximum calls per batch, the first one included. Default 6. */
  maxAttempts?: number;
  /** Backoff ceiling of the first retry in milliseconds, doubled for each later retry. Default 500. */
  baseDelayMs?: number;
  /** Maximum backoff ceiling in milliseconds. Default 30,000. */
  maxDelayMs?: number;
  /**
   * Longest `Retry-After` the client waits for, in milliseconds. A longer one ends the call
   * with `embedder_rate_limited` so the job is retried later instead of holding a worker.
   * Default 60,000.
   */
  maxRetryAfterMs?: number;
  sleep?: Sleep;
  /** Source of uniform numbers in [0, 1) for the jitter. Default `Math.random`. */
  random?: () => number;
  logger?: WarningLogger;
}

export const DEFAULT_MAX_ATTEMPTS = 6;
export const DEFAULT_BASE_DELAY_MS = 500;
export const DEFAULT_MAX_DELAY_MS = 30_000;
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

const defaultLogger = new Logger('EmbedderRetry');

/**
 * Calls `call` with `inputs` and retries transient provider failures.
 *
 * - 408, 429, 5xx and network errors are retried with full-jitter exponential backoff:
 *   a uniform delay in [0, min(maxDelayMs, baseDelayMs * 2^(retry - 1))), or exactly the
 *   provider's `Retry-After` when it sent one.
 * - A timeout or a 413 on a batch of two or more inputs splits it in halves, which are
 *   retried in order with a fresh attempt budget each. A timeout on one input is retried
 *   like a 5xx. Servers such as the inference role and text-embeddings-inference return 413
 *   when a request contains more inputs than they accept.
 * - Any other 4xx throws `InvalidInputError('embedder_rejected')` at once with the
 *   provider's message.
 * - When the attempts run out, throws `UnavailableError` so that the job is retried later.
 * Errors that are not provider call errors (for example an open circuit) pass through.
 */
export async function withRetry<TInput, TOutput>(
  inputs: TInput[],
  call: (batch: TInput[]) => Promise<TOutput[]>,
  options: RetryOptions,
): Promise<TOutput[]> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const sleep = options.sleep ?? realSleep;
  const logger = options.logger ?? defaultLogger;

  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call(inputs);
    } catch (error) {
      if (isBatchTooHeavy(error) && inputs.length > 1) {
        const middle = Math.ceil(inputs.length / 2);
        const cause = error instanceof ProviderTimeoutError ? `timed out after ${error.timeoutMs} ms` : 'rejected it as too large (413)';
        logger.warn(
          `${options.provider} ${cause} on a batch of ${inputs.length} inputs; ` +
            `retrying as batches of ${middle} and ${inputs.length - middle}`,
        );
        const left = await withRetry(inputs.slice(0, middle), call, options);
        const right = await withRetry(inputs.slice(middle), call, options);
        return [...left, ...right];
      }

      if (error instanceof ProviderHttpError && !isRetryableStatus(error.status)) {
        throw new InvalidInputError(
          'embedder_rejected',
          error.message,
          { provider: options.provider, status: error.status },
          { cause: error },
        );
      }
      if (!isTransient(error)) {
        throw error;
      }
      if (attempt >= maxAttempts) {
        throw toUnavailableError(error, options.provider, attempt);
      }

      const retryAfterMs = error instanceof ProviderHttpError ? error.retryAfterMs : undefined;
      const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
      if (retryAfterMs !== undefined && retryAfterMs > maxRetryAfterMs) {
        throw new UnavailableError(
          'embedder_rate_limited',
          `${error.message}; it asked to retry after ${retryAfterMs} ms, over the ${maxRetryAfterMs} ms the client waits, so the job should be retried later`,
          { provider: options.provider, retryAfterMs },
          { cause: error },
        );
      }

      const delayMs = retryAfterMs ?? backoffDelay(attempt, options);
      logger.warn(
        `${error.message} (attempt ${attempt} of ${maxAttempts}, batch of ${inputs.length}); retrying in ${delayMs} ms`,
      );
      await sleep(delayMs);
    }
  }
}

/** Returns the full-jitter delay before retry number `attempt` (1 for the first retry). */
export function backoffDelay(attempt: number, options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'>): number {
  const base = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
  const cap = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const random = options.random ?? Math.random;
  const ceiling = Math.min(cap, base * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

function isBatchTooHeavy(error: unknown): error is ProviderTimeoutError | ProviderHttpError {
  return error instanceof ProviderTimeoutError || (error instanceof ProviderHttpError && error.status === 413);
}

function isTransient(error: unknown): error is ProviderHttpError | ProviderTimeoutError | ProviderNetworkError {
  return (
    error instanceof ProviderTimeoutError ||
    error instanceof ProviderNetworkError ||
    (error instanceof ProviderHttpError && isRetryableStatus(error.status))
  );
}

function toUnavailableError(
  error: ProviderHttpError | ProviderTimeoutError | ProviderNetworkError,
  provider: string,
  attempts: number,
): UnavailableError {
  const suffix = `, gave up after ${attempts} attempts`;
  if (error instanceof ProviderTimeoutError) {
    return new UnavailableError('embedder_timeout', error.message + suffix, { provider, attempts }, { cause: error });
  }
  if (error instanceof ProviderNetworkError) {
    return new UnavailableError('embedder_unreachable', error.message + suffix, { provider, attempts }, { cause: error });
  }
  const code = error.status === 429 ? 'embedder_rate_limited' : 'embedder_unavailable';
  return new UnavailableError(code, error.message + suffix, { provider, status: error.status, attempts }, { cause: error });
}
