import { AppError, UnavailableError } from 'src/common/app-error';
import {
  ProviderHttpError,
  ProviderNetworkError,
  ProviderTimeoutError,
} from 'src/embedders/resilience/provider-errors';
import { Clock, systemClock } from 'src/embedders/resilience/timing';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Name used in the open-circuit error, for example "OpenAI embedder 3f2c…". */
  name: string;
  /** Failures within `windowMs` that open the circuit. Default 5. */
  failureThreshold?: number;
  /** Sliding window for counting failures, in milliseconds. Default 60,000. */
  windowMs?: number;
  /** Time the circuit stays open before it lets one probe through, in milliseconds. Default 30,000. */
  openMs?: number;
  /** Decides which errors count as failures. Default: 5xx, timeouts, network errors and `unavailable` AppErrors. */
  isFailure?: (error: unknown) => boolean;
  clock?: Clock;
}

/**
 * Circuit breaker for calls to one provider.
 *
 * Closed: calls pass, and failures are counted in a sliding window. Open: calls fail at
 * once with `UnavailableError('embedder_circuit_open')`, an `unavailable` error so that the
 * job is retried later instead of failed. Half-open, once `openMs` has passed: one probe
 * call passes while the others still fail fast. A successful probe closes the circuit and a
 * failed one opens it again.
 */
export class CircuitBreaker {
  private readonly failureThreshold: number;
  private readonly windowMs: number;
  private readonly openMs: number;
  private readonly isFailure: (error: unknown) => boolean;
  private readonly clock: Clock;

  private failureTimes: number[] = [];
  private openedAt: number | undefined;
  private probeInFlight = false;
  /** Message of the failure that opened the circuit, repeated while it stays open. */
  private lastFailure = '';

  constructor(private readonly options: CircuitBreakerOptions) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.windowMs = options.windowMs ?? 60_000;
    this.openMs = options.openMs ?? 30_000;
    this.isFailure = options.isFailure ?? isProviderFailure;
    this.clock = options.clock ?? systemClock;
  }

  get state(): CircuitState {
    if (this.openedAt === undefined) {
      return 'closed';
    }
    return this.clock() - this.openedAt >= this.openMs ? 'half-open' : 'open';
  }

  /** Runs `operation` unless the circuit is open or a half-open probe is already running. */
  async execute<T>(operation: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.probeInFlight)) {
      throw this.openError();
    }

    const isProbe = state === 'half-open';
    if (isProbe) {
      this.probeInFlight = true;
    }
    try {
      const result = await operation();
      this.recordSuccess();
      return result;
    } catch (error) {
      if (this.isFailure(error)) {
        this.lastFailure = error instanceof Error ? error.message : String(error);
        this.recordFailure(isProbe);
      } else if (isProbe) {
        // The provider answered, for example with a 400, so it is reachable again.
        this.recordSuccess();
      }
      throw error;
    } finally {
      if (isProbe) {
        this.probeInFlight = false;
      }
    }
  }

  private recordSuccess(): void {
    this.openedAt = undefined;
    this.failureTimes = [];
  }

  private recordFailure(isProbe: boolean): void {
    const now = this.clock();
    if (isProbe) {
      this.openedAt = now;
      return;
    }
    this.failureTimes = this.failureTimes.filter((time) => now - time < this.windowMs);
    this.failureTimes.push(now);
    if (this.failureTimes.length >= this.failureThreshold) {
      this.openedAt = now;
      this.failureTimes = [];
    }
  }

  private openError(): UnavailableError {
    const retryInMs = this.openedAt === undefined ? 0 : Math.max(0, this.openedAt + this.openMs - this.clock());
    return new UnavailableError(
      'embedder_circuit_open',
      `${this.options.name} is failing (last error: ${this.lastFailure}), so calls are paused for ${retryInMs} ms more; jobs retry after that`,
      { name: this.options.name, retryInMs },
    );
  }
}

/** Returns true for errors that show the provider is unhealthy rather than the request wrong. */
export function isProviderFailure(error: unknown): boolean {
  if (error instanceof ProviderHttpError) {
    return error.status >= 500;
  }
  if (error instanceof ProviderTimeoutError || error instanceof ProviderNetworkError) {
    return true;
  }
  return error instanceof AppError && error.kind === 'unavailable';
}
