import { Counter, Histogram, Registry } from 'prom-client';
import { AppError } from 'src/common/app-error';

export type StorageOperation =
  | 'put'
  | 'get'
  | 'get_buffer'
  | 'stat'
  | 'delete'
  | 'delete_prefix'
  | 'check_health'
  | 'ensure_bucket';

export interface StorageMetrics {
  operations: Counter<'operation' | 'status'>;
  duration: Histogram<'operation'>;
}

const OPERATION_COUNTER_NAME = 'storage_operation_total';
const DURATION_HISTOGRAM_NAME = 'storage_operation_duration_seconds';

// Spans a small stat (milliseconds) up to a large multipart upload (tens of seconds).
const DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * Returns the `storage_operation_total{operation,status}` counter of `registry`,
 * registering it on first use so two adapters can share one registry.
 */
export function createStorageOperationCounter(registry: Registry): Counter<'operation' | 'status'> {
  const existing = registry.getSingleMetric(OPERATION_COUNTER_NAME);
  if (existing) {
    return existing as Counter<'operation' | 'status'>;
  }
  return new Counter({
    name: OPERATION_COUNTER_NAME,
    help: 'Blob store operations by operation and outcome (success, or the error kind such as not_found)',
    labelNames: ['operation', 'status'],
    registers: [registry],
  });
}

/**
 * Returns the `storage_operation_duration_seconds{operation}` histogram of `registry`,
 * registering it on first use.
 */
export function createStorageOperationDuration(registry: Registry): Histogram<'operation'> {
  const existing = registry.getSingleMetric(DURATION_HISTOGRAM_NAME);
  if (existing) {
    return existing as Histogram<'operation'>;
  }
  return new Histogram({
    name: DURATION_HISTOGRAM_NAME,
    help: 'Duration of blob store operations in seconds',
    labelNames: ['operation'],
    buckets: DURATION_BUCKETS_SECONDS,
    registers: [registry],
  });
}

export function createStorageMetrics(registry: Registry): StorageMetrics {
  return {
    operations: createStorageOperationCounter(registry),
    duration: createStorageOperationDuration(registry),
  };
}

/**
 * Runs `action` and records its outcome and duration. For `get` the duration covers
 * opening the stream only, because the caller reads the body later.
 */
export async function measureStorageOperation<T>(
  metrics: StorageMetrics | undefined,
  operation: StorageOperation,
  action: () => Promise<T>,
): Promise<T> {
  if (!metrics) {
    return action();
  }
  const stopTimer = metrics.duration.startTimer({ operation });
  try {
    const result = await action();
    metrics.operations.inc({ operation, status: 'success' });
    return result;
  } catch (error) {
    const status = error instanceof AppError ? error.kind : 'error';
    metrics.operations.inc({ operation, status });
    throw error;
  } finally {
    stopTimer();
  }
}
