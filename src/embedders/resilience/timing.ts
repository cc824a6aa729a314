/** Current time in milliseconds since the Unix epoch, injectable so tests control time. */
export type Clock = () => number;

/** Waits the given number of milliseconds, injectable so tests do not really wait. */
export type Sleep = (ms: number) => Promise<void>;

export const systemClock: Clock = () => Date.now();

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Subset of Nest's `LoggerService` that the resilience helpers and providers use. */
export interface WarningLogger {
  warn(message: string, context?: string): void;
}
