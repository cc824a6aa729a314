import { QueryFailedError } from 'typeorm';

// SQLSTATE codes of transactions that Postgres aborted only because of concurrent work.
const RETRYABLE_CODES = new Set(['40P01', '40001']);

export function isTransientConflict(error: unknown): boolean {
  const code = (error as QueryFailedError & { driverError?: { code?: string } })?.driverError?.code;
  return error instanceof QueryFailedError && code !== undefined && RETRYABLE_CODES.has(code);
}

/**
 * Runs `operation` again when Postgres aborts it for a deadlock or a serialization failure,
 * which cascading deletes can meet while workers write the same rows. The operation must be
 * safe to repeat, such as a delete or a whole transaction.
 */
export async function retryOnConflict<T>(operation: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= attempts || !isTransientConflict(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt + Math.random() * 50));
    }
  }
}
