/**
 * Kinds of failure shared by HTTP and job handling. The HTTP filter maps a kind to a
 * status code; the JetStream transport maps it to retry or dead-letter.
 */
export type AppErrorKind =
  | 'not_found'
  | 'invalid'
  | 'too_large'
  | 'conflict'
  | 'forbidden'
  | 'overloaded'
  | 'unavailable'
  | 'internal';

/**
 * Base class of every error the application throws on purpose. `code` is a stable,
 * machine-readable identifier (for example `collection_not_found`); the message names
 * the offending value so that a person can act on it.
 */
export class AppError extends Error {
  constructor(
    readonly kind: AppErrorKind,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class NotFoundError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super('not_found', code, message, details);
  }
}

export class InvalidInputError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('invalid', code, message, details, options);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super('conflict', code, message, details);
  }
}

export class UnavailableError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('unavailable', code, message, details, options);
  }
}

/** A request contains more than the service accepts at once (HTTP 413); smaller requests succeed. */
export class PayloadTooLargeError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super('too_large', code, message, details);
  }
}

/** The service is busy; the caller should retry after `retryAfterSecs` (HTTP 429 with Retry-After). */
export class OverloadedError extends AppError {
  constructor(
    code: string,
    message: string,
    readonly retryAfterSecs: number,
    details?: Record<string, unknown>,
  ) {
    super('overloaded', code, message, details);
  }
}

export function assertNever(value: never, context: string): never {
  throw new Error(`Unhandled ${context}: ${JSON.stringify(value)}`);
}
