import { describeFetchError } from 'src/common/fetch-errors';

/**
 * Low-level failures of one HTTP call to an embedding provider. `withRetry` decides from
 * these whether to retry, split the batch or give up, and converts them to `AppError`s
 * before they leave the provider clients.
 */

/** The provider responded with a non-2xx status. */
export class ProviderHttpError extends Error {
  constructor(
    readonly provider: string,
    readonly status: number,
    /** Error message extracted from the provider's response body. */
    readonly providerMessage: string,
    /** Delay the provider requested in its `Retry-After` header, in milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(`${provider} returned ${status}: ${providerMessage}`);
    this.name = 'ProviderHttpError';
  }
}

/** The provider did not respond within the client's timeout. */
export class ProviderTimeoutError extends Error {
  constructor(
    readonly provider: string,
    readonly timeoutMs: number,
  ) {
    super(`${provider} did not respond within ${timeoutMs} ms`);
    this.name = 'ProviderTimeoutError';
  }
}

/** The request failed before any HTTP response arrived (connection refused, reset, DNS). */
export class ProviderNetworkError extends Error {
  constructor(
    readonly provider: string,
    cause: unknown,
  ) {
    super(`request to ${provider} failed: ${describeFetchError(cause)}`, { cause });
    this.name = 'ProviderNetworkError';
  }
}

/** Returns true for statuses worth retrying: 408, 429 and every 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Parses a `Retry-After` header, either delay seconds or an HTTP date, into milliseconds
 * from `now`. Returns undefined for a missing or unparsable value, and 0 for a date in the past.
 */
export function parseRetryAfter(header: string | null | undefined, now: number): number | undefined {
  if (header === null || header === undefined) {
    return undefined;
  }
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) {
    return Math.round(Number(value) * 1000);
  }
  // HTTP dates always contain day and month names. Without this check Date.parse reads "-3" as a year.
  const date = /[a-z]/i.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(date)) {
    return undefined;
  }
  return Math.max(0, date - now);
}
