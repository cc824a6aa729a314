import { InvalidInputError } from 'src/common/app-error';

/**
 * Wall-clock budget shared by every step of one extraction. Child processes and
 * worker threads receive `remainingMs()` as their own limit and are killed when it
 * runs out, while in-process steps are only raced against it (see `race`).
 */
export class ExtractionDeadline {
  private readonly expiresAt: number;

  constructor(
    readonly timeoutMs: number,
    private readonly fileName: string,
  ) {
    this.expiresAt = Date.now() + timeoutMs;
  }

  remainingMs(): number {
    return Math.max(0, this.expiresAt - Date.now());
  }

  isExpired(): boolean {
    return this.remainingMs() === 0;
  }

  timeoutError(): InvalidInputError {
    return new InvalidInputError(
      'extraction_timeout',
      `Extracting text from "${this.fileName}" timed out after ${this.timeoutMs} ms. Split the file or raise the extraction timeout.`,
      { file_name: this.fileName, timeout_ms: this.timeoutMs },
    );
  }

  throwIfExpired(): void {
    if (this.isExpired()) {
      throw this.timeoutError();
    }
  }

  /**
   * Settles with `work`, or rejects with `extraction_timeout` when the deadline passes first.
   * Limitation: synchronous CPU work inside `work` blocks the timer, so a stuck in-process
   * parser is only reported once it yields, and it keeps running after the rejection.
   */
  race<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expiry = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(this.timeoutError()), this.remainingMs());
    });
    return Promise.race([work, expiry]).finally(() => clearTimeout(timer));
  }
}
