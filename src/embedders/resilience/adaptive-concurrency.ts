import { ProviderHttpError } from 'src/embedders/resilience/provider-errors';
import { Clock, systemClock } from 'src/embedders/resilience/timing';

export interface AdaptiveConcurrencyOptions {
  /** Upper bound and starting value of the limit. */
  maxConcurrency: number;
  /** Lower bound of the limit. Default 1. */
  minConcurrency?: number;
  /** Overload responses within `stormWindowMs` that halve the limit. Default 3. */
  stormThreshold?: number;
  /** Sliding window for counting overload responses, in milliseconds. Default 10,000. */
  stormWindowMs?: number;
  /** Consecutive successes that raise the limit by one. Default 10. */
  successesPerIncrease?: number;
  /** Decides which errors are overload signals. Default: a provider 503. */
  isOverload?: (error: unknown) => boolean;
  /** Called with the new limit whenever it changes. */
  onLimitChange?: (limit: number) => void;
  clock?: Clock;
}

/**
 * Concurrency limiter for one provider whose limit adapts to overload, in the manner of
 * additive-increase, multiplicative-decrease congestion control. A storm of overload
 * responses halves the limit (not below `minConcurrency`), and each run of
 * `successesPerIncrease` successes raises it by one (not above `maxConcurrency`). Lowering
 * the limit does not cancel calls already running, but new calls wait until they finish.
 */
export class AdaptiveConcurrency {
  private currentLimit: number;
  private running = 0;
  private successStreak = 0;
  private overloadTimes: number[] = [];
  private readonly waiters: Array<() => void> = [];

  private readonly maxConcurrency: number;
  private readonly minConcurrency: number;
  private readonly stormThreshold: number;
  private readonly stormWindowMs: number;
  private readonly successesPerIncrease: number;
  private readonly isOverload: (error: unknown) => boolean;
  private readonly clock: Clock;

  constructor(private readonly options: AdaptiveConcurrencyOptions) {
    const { maxConcurrency } = options;
    const minConcurrency = options.minConcurrency ?? 1;
    if (!Number.isInteger(minConcurrency) || minConcurrency < 1 || !Number.isInteger(maxConcurrency) || maxConcurrency < minConcurrency) {
      throw new RangeError(
        `Invalid concurrency bounds min ${minConcurrency}, max ${maxConcurrency}: expected integers with 1 <= min <= max.`,
      );
    }
    this.maxConcurrency = maxConcurrency;
    this.minConcurrency = minConcurrency;
    this.currentLimit = maxConcurrency;
    this.stormThreshold = options.stormThreshold ?? 3;
    this.stormWindowMs = options.stormWindowMs ?? 10_000;
    this.successesPerIncrease = options.successesPerIncrease ?? 10;
    this.isOverload = options.isOverload ?? ((error) => error instanceof ProviderHttpError && error.status === 503);
    this.clock = options.clock ?? systemClock;
  }

  get limit(): number {
    return this.currentLimit;
  }

  /** Number of operations running now. */
  get active(): number {
    return this.running;
  }

  /** Runs `operation` once fewer than `limit` operations are running, and adapts the limit to its outcome. */
  async run<T>(operation: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      const result = await operation();
      this.recordSuccess();
      return result;
    } catch (error) {
      this.recordError(error);
      throw error;
    } finally {
      this.running -= 1;
      this.wakeWaiters();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.currentLimit) {
      this.running += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiters.push(() => {
        this.running += 1;
        resolve();
      });
    });
  }

  private wakeWaiters(): void {
    while (this.running < this.currentLimit && this.waiters.length > 0) {
      const next = this.waiters.shift() as () => void;
      next();
    }
  }

  private recordSuccess(): void {
    this.successStreak += 1;
    if (this.successStreak >= this.successesPerIncrease && this.currentLimit < this.maxConcurrency) {
      this.successStreak = 0;
      this.setLimit(this.currentLimit + 1);
    }
  }

  private recordError(error: unknown): void {
    this.successStreak = 0;
    if (!this.isOverload(error)) {
      return;
    }
    const now = this.clock();
    this.overloadTimes = this.overloadTimes.filter((time) => now - time < this.stormWindowMs);
    this.overloadTimes.push(now);
    if (this.overloadTimes.length >= this.stormThreshold) {
      // Clearing the window means the next halving needs a new storm.
      this.overloadTimes = [];
      this.setLimit(Math.max(this.minConcurrency, Math.floor(this.currentLimit / 2)));
    }
  }

  private setLimit(limit: number): void {
    if (limit === this.currentLimit) {
      return;
    }
    this.currentLimit = limit;
    this.options.onLimitChange?.(limit);
    this.wakeWaiters();
  }
}
