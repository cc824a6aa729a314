import { OverloadedError } from 'src/common/app-error';

interface PendingItem<I, O> {
  item: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Feeds one model: items of concurrent requests join one FIFO queue and run in batches of
 * up to `batchSize`, one batch at a time, so small requests share a `session.run`. At most
 * `maxRequests` requests may wait or run. One more gets an OverloadedError (HTTP 429), so
 * memory stays bounded and clients back off instead of timing out.
 */
export class BatchingQueue<I, O> {
  private readonly pending: Array<PendingItem<I, O>> = [];
  private activeRequests = 0;
  private draining = false;

  constructor(
    private readonly runBatch: (items: I[]) => Promise<O[]>,
    private readonly options: { batchSize: number; maxRequests: number; modelId: string; retryAfterSecs?: number },
  ) {}

  /** Requests waiting or running. */
  get depth(): number {
    return this.activeRequests;
  }

  async submit(items: I[]): Promise<O[]> {
    return this.submitPrepared(() => items);
  }

  /**
   * Admits a request, then calls `prepare` for its items. Tokenizing costs CPU time, so a
   * request turned away with 429 must be turned away before it is prepared.
   */
  async submitPrepared(prepare: () => I[] | Promise<I[]>): Promise<O[]> {
    if (this.activeRequests >= this.options.maxRequests) {
      throw new OverloadedError(
        'inference_queue_full',
        `Model ${this.options.modelId} already has ${this.activeRequests} requests queued or running (INFERENCE_MAX_QUEUE_DEPTH); retry later`,
        this.options.retryAfterSecs ?? 1,
        { model: this.options.modelId, queue_depth: this.activeRequests },
      );
    }

    this.activeRequests++;
    try {
      const items = await prepare();
      const outputs = items.map((item) => new Promise<O>((resolve, reject) => this.pending.push({ item, resolve, reject })));
      this.drain();
      return await Promise.all(outputs);
    } finally {
      this.activeRequests--;
    }
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    void this.runPending();
  }

  private async runPending(): Promise<void> {
    // `draining` is cleared in the same tick as the final empty check, so an item queued
    // later always finds the loop stopped and starts a new one.
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.options.batchSize);
      try {
        await this.runAndSettle(batch);
      } catch (error) {
        if (batch.length === 1) {
          batch[0].reject(error);
          continue;
        }
        // One bad input must not fail the other requests that share its batch, so a failed
        // batch runs again one item at a time and only the items that fail alone are rejected.
        for (const entry of batch) {
          await this.runAndSettle([entry]).catch((error: unknown) => entry.reject(error));
        }
      }
    }
    this.draining = false;
  }

  private async runAndSettle(batch: Array<PendingItem<I, O>>): Promise<void> {
    const outputs = await this.runBatch(batch.map((entry) => entry.item));
    if (outputs.length !== batch.length) {
      throw new Error(`model ${this.options.modelId} returned ${outputs.length} results for ${batch.length} inputs`);
    }
    batch.forEach((entry, index) => entry.resolve(outputs[index]));
  }
}
