import { Injectable } from '@nestjs/common';
import { AppError, PayloadTooLargeError } from 'src/common/app-error';
import { InferenceConfig } from 'src/config/app-config';
import { ModelRegistry } from 'src/inference/model-registry.service';
import { inferenceMetrics } from 'src/platform/observability/metrics';

export interface EmbeddingResult {
  model: string;
  dimensions: number;
  vectors: Float32Array[];
  /** Tokens fed to the model, special tokens included. */
  tokens: number;
  truncated: number;
}

export interface RerankDocument {
  text: string;
  id?: string;
}

export interface RerankResult {
  index: number;
  id?: string;
  score: number;
  text?: string;
}

/** Embedding and reranking requests: validation, queueing per model, and metrics. */
@Injectable()
export class InferenceService {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly config: InferenceConfig,
  ) {}

  /**
   * Embeds `texts` with `modelId`, in input order. `inputType` (`query` or `document`) picks
   * the model's prompt, if it defines one. Texts over the model's token limit are truncated.
   */
  async embed(modelId: string, texts: string[], inputType?: string): Promise<EmbeddingResult> {
    this.checkBatchSize(texts.length, 'texts');
    const started = process.hrtime.bigint();
    let label = this.registry.metricLabel(modelId);
    let status = 'success';
    try {
      const { model, queue } = await this.registry.embeddingModel(modelId);
      label = this.registry.metricLabel(modelId);
      let encoded: Array<ReturnType<typeof model.encode>> = [];
      let order: number[] = [];
      const prepare = async () => {
        encoded = await mapWithBreaks(texts, (text) => text.length, (text) => model.encode(text, inputType));
        order = sortedByLength(encoded.map(({ input }) => input.ids.length));
        return order.map((index) => encoded[index].input);
      };

      const sortedVectors = await this.trackQueue(label, queue, () => queue.submitPrepared(prepare));
      const vectors = new Array<Float32Array>(texts.length);
      order.forEach((index, position) => (vectors[index] = sortedVectors[position]));
      const truncated = encoded.filter((entry) => entry.truncated).length;
      if (truncated > 0) inferenceMetrics.embedTruncated().labels(label).inc(truncated);
      inferenceMetrics.embedItems().labels(label).inc(texts.length);
      return {
        model: modelId,
        dimensions: model.dimensions,
        vectors,
        tokens: encoded.reduce((sum, entry) => sum + entry.input.ids.length, 0),
        truncated,
      };
    } catch (error) {
      status = statusLabel(error);
      throw error;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      inferenceMetrics.embedRequests().labels(label, status).inc();
      inferenceMetrics.embedDuration().labels(label, status).observe(seconds);
      if (status === 'success' && texts.length > 0) {
        inferenceMetrics.embedPerItemDuration().labels(label).observe(seconds / texts.length);
      }
    }
  }

  /** Scores each document against `query` and returns them best first, `topK` at most. */
  async rerank(modelId: string, query: string, documents: RerankDocument[], topK?: number, returnText = false): Promise<RerankResult[]> {
    this.checkBatchSize(documents.length, 'documents');
    const started = process.hrtime.bigint();
    let label = this.registry.metricLabel(modelId);
    let status = 'success';
    try {
      const { model, queue } = await this.registry.rerankerModel(modelId);
      label = this.registry.metricLabel(modelId);
      let order: number[] = [];
      const prepare = async () => {
        const pairs = await mapWithBreaks(
          documents,
          (document) => query.length + document.text.length,
          (document) => model.encodePair(query, document.text),
        );
        order = sortedByLength(pairs.map((pair) => pair.ids.length));
        return order.map((index) => pairs[index]);
      };

      const sortedScores = await this.trackQueue(label, queue, () => queue.submitPrepared(prepare));
      const scores = new Array<number>(documents.length);
      order.forEach((index, position) => (scores[index] = sortedScores[position]));
      inferenceMetrics.rerankDocuments().labels(label).inc(documents.length);

      const results = documents.map((document, index) => ({
        index,
        ...(document.id !== undefined ? { id: document.id } : {}),
        score: scores[index],
        ...(returnText ? { text: document.text } : {}),
      }));
      results.sort((a, b) => b.score - a.score || a.index - b.index);
      return topK === undefined ? results : results.slice(0, topK);
    } catch (error) {
      status = statusLabel(error);
      throw error;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      inferenceMetrics.rerankRequests().labels(label, status).inc();
      inferenceMetrics.rerankDuration().labels(label, status).observe(seconds);
    }
  }

  /** Runs `work` and keeps the queue-depth gauge of the model right, also when `work` fails. */
  private async trackQueue<T>(label: string, queue: { depth: number }, work: () => Promise<T>): Promise<T> {
    const gauge = inferenceMetrics.queueDepth().labels(label);
    try {
      const pending = work();
      gauge.set(queue.depth);
      return await pending;
    } finally {
      gauge.set(queue.depth);
    }
  }

  private checkBatchSize(count: number, itemName: string): void {
    if (count > this.config.maxRequestBatch) {
      throw new PayloadTooLargeError(
        'inference_batch_too_large',
        `Request has ${count} ${itemName}; this inference service accepts at most ${this.config.maxRequestBatch} per request (INFERENCE_MAX_BATCH_SIZE)`,
        { count, max: this.config.maxRequestBatch },
      );
    }
  }
}

// Characters tokenized between two returns to the event loop: about 20 ms of work on a 2-core
// VM (one measurement), so health probes and other requests are served during a large request.
const CHARACTERS_PER_BREAK = 64 * 1024;

/**
 * Maps `items` in order, returning to the event loop whenever about CHARACTERS_PER_BREAK
 * characters were processed. Tokenizing runs in JavaScript on the event loop, and one request
 * of 128 long texts would otherwise hold the process for seconds.
 */
async function mapWithBreaks<T, R>(items: T[], sizeOf: (item: T) => number, map: (item: T) => R): Promise<R[]> {
  const results: R[] = [];
  let sinceBreak = 0;
  for (const item of items) {
    results.push(map(item));
    sinceBreak += sizeOf(item);
    if (sinceBreak >= CHARACTERS_PER_BREAK) {
      sinceBreak = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return results;
}

/** Indices ordered by token count, so each batch pads to similar lengths. */
function sortedByLength(lengths: number[]): number[] {
  return lengths.map((_, index) => index).sort((a, b) => lengths[a] - lengths[b] || a - b);
}

function statusLabel(error: unknown): string {
  return error instanceof AppError ? error.kind : 'error';
}
