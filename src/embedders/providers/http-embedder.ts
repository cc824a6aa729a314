import { Logger } from '@nestjs/common';
import { InvalidInputError, UnavailableError } from 'src/common/app-error';
import { isRecord } from 'src/common/is-record';
import { Embedder, EmbeddingPurpose } from 'src/embedders/embedder';
import {
  PreparedInput,
  TruncationStrategy,
  estimateTokens,
  planBatches,
  truncateToTokens,
} from 'src/embedders/providers/token-budget';
import { AdaptiveConcurrency } from 'src/embedders/resilience/adaptive-concurrency';
import { CircuitBreaker } from 'src/embedders/resilience/circuit-breaker';
import {
  ProviderHttpError,
  ProviderNetworkError,
  ProviderTimeoutError,
  parseRetryAfter,
} from 'src/embedders/resilience/provider-errors';
import { RetryOptions, withRetry } from 'src/embedders/resilience/retry';
import { Clock, WarningLogger, systemClock } from 'src/embedders/resilience/timing';

/** Settings of one embedder row that calls a remote provider. */
export interface ProviderEmbedderOptions {
  /** Provider URL without the endpoint path, for example `https://api.openai.com/v1`. */
  baseUrl: string;
  model: string;
  /** Length of every vector the model returns. Responses of another length are rejected. */
  dimensions: number;
  /** Sent as `Authorization: Bearer <apiKey>` when set. */
  apiKey?: string;
  /** Maximum texts per request. The provider's own cap applies when it is lower. */
  batchSize?: number;
  /** Maximum estimated tokens per text (see `estimateTokens`). Longer texts are truncated or rejected. */
  maxInputTokens?: number;
  /** `end` cuts long texts at the end (keeps the start), `start` keeps the end, `none` rejects them. */
  truncation: TruncationStrategy;
  /** Timeout of one HTTP request in milliseconds. Default 60,000. */
  timeoutMs?: number;
}

/**
 * Collaborators of an HTTP embedder. Pass one `CircuitBreaker` and one `AdaptiveConcurrency`
 * per provider endpoint and share them across embedder instances. When omitted, each
 * instance gets its own.
 */
export interface ProviderRuntime {
  retry?: Omit<RetryOptions, 'provider' | 'logger'>;
  circuitBreaker?: CircuitBreaker;
  concurrency?: AdaptiveConcurrency;
  /** HTTP client. Default: Node's global `fetch`. */
  fetch?: typeof fetch;
  clock?: Clock;
  logger?: WarningLogger;
}

/** Request limits the provider's API enforces. */
export interface ProviderLimits {
  maxInputsPerRequest: number;
  /** Maximum estimated tokens per request, or undefined when the provider states none. */
  maxTokensPerRequest?: number;
  /** Batch size used when the options set none. */
  defaultBatchSize: number;
}

/** The parts of an HTTP call that differ between providers. */
export interface ProviderRequest {
  url: string;
  body: unknown;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_CONCURRENCY = 4;

const TRUNCATION_STRATEGIES: readonly TruncationStrategy[] = ['end', 'start', 'none'];

/**
 * Base class of the embedders that call a provider over HTTP. It validates and truncates
 * inputs, splits them into batches within the provider's limits, sends the batches through
 * the concurrency limiter, circuit breaker and `withRetry`, and validates every response.
 * Subclasses build the request and read the vectors from the response.
 */
export abstract class HttpEmbedder implements Embedder {
  readonly dimensions: number;
  readonly model: string;

  protected readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly truncation: TruncationStrategy;
  private readonly maxInputTokens: number;
  private readonly maxBatchInputs: number;
  private readonly maxBatchTokens: number;
  private readonly timeoutMs: number;
  private readonly breaker: CircuitBreaker;
  private readonly concurrency: AdaptiveConcurrency;
  private readonly fetchImpl: typeof fetch;
  private readonly clock: Clock;
  private readonly retryOptions: RetryOptions;

  protected constructor(
    /** Provider name used in messages, for example "OpenAI". */
    readonly providerName: string,
    limits: ProviderLimits,
    options: ProviderEmbedderOptions,
    runtime: ProviderRuntime = {},
  ) {
    validateOptions(providerName, options);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.model = options.model;
    this.dimensions = options.dimensions;
    this.apiKey = options.apiKey;
    this.truncation = options.truncation;
    this.maxInputTokens = Math.min(options.maxInputTokens ?? Infinity, limits.maxTokensPerRequest ?? Infinity);
    this.maxBatchInputs = Math.min(options.batchSize ?? limits.defaultBatchSize, limits.maxInputsPerRequest);
    this.maxBatchTokens = limits.maxTokensPerRequest ?? Infinity;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

    const endpointName = `${providerName} embedder at ${redactUrl(this.baseUrl)}`;
    this.clock = runtime.clock ?? systemClock;
    this.breaker = runtime.circuitBreaker ?? new CircuitBreaker({ name: endpointName, clock: this.clock });
    this.concurrency =
      runtime.concurrency ?? new AdaptiveConcurrency({ maxConcurrency: DEFAULT_MAX_CONCURRENCY, clock: this.clock });
    this.fetchImpl = runtime.fetch ?? fetch;
    this.retryOptions = { ...runtime.retry, provider: providerName, logger: runtime.logger ?? new Logger(new.target.name) };
  }

  /** Builds the request for one batch. */
  protected abstract buildRequest(texts: string[], purpose: EmbeddingPurpose): ProviderRequest;

  /** Reads the vectors from a parsed 2xx response body, in request order, without validating them. */
  protected abstract readVectors(body: unknown, inputCount: number): unknown;

  /** Extracts the provider's error message from an error response. */
  protected readErrorMessage(body: unknown, rawText: string): string {
    return readCommonErrorMessage(body, rawText);
  }

  async embed(texts: string[], purpose: EmbeddingPurpose): Promise<number[][]> {
    if (purpose !== 'document' && purpose !== 'query') {
      throw new InvalidInputError(
        'invalid_embedding_purpose',
        `Invalid embedding purpose ${JSON.stringify(purpose)}: expected "document" or "query".`,
      );
    }
    if (!Array.isArray(texts)) {
      throw new InvalidInputError('invalid_embedding_input', 'Texts to embed must be an array of strings.');
    }
    if (texts.length === 0) {
      return [];
    }

    const inputs = this.prepareInputs(texts);
    const batches = planBatches(inputs, this.maxBatchInputs, this.maxBatchTokens);
    const results = await Promise.all(batches.map((batch) => this.embedBatch(batch, purpose)));
    return results.flat();
  }

  /** Checks every text and truncates those over `maxInputTokens`, or rejects the call when truncation is `none`. */
  private prepareInputs(texts: unknown[]): PreparedInput[] {
    return texts.map((text, index) => {
      if (typeof text !== 'string') {
        throw new InvalidInputError(
          'invalid_embedding_input',
          `Text at index ${index} is ${text === null ? 'null' : typeof text}, expected a string.`,
          { index },
        );
      }
      // Providers reject empty input with a 400 that names no index, so reject it here.
      if (text.length === 0) {
        throw new InvalidInputError('invalid_embedding_input', `Text at index ${index} is empty; remove it before embedding.`, {
          index,
        });
      }

      const estimatedTokens = estimateTokens(text);
      if (estimatedTokens <= this.maxInputTokens) {
        return { index, text, estimatedTokens };
      }
      if (this.truncation === 'none') {
        throw new InvalidInputError(
          'input_too_long',
          `Text at index ${index} is about ${estimatedTokens} tokens (estimated from its UTF-8 length), ` +
            `over the limit of ${this.maxInputTokens} for ${this.providerName} model ${this.model}; ` +
            'shorten it, or set truncation to "end" or "start".',
          { index, estimatedTokens, maxInputTokens: this.maxInputTokens },
        );
      }
      const truncated = truncateToTokens(text, this.maxInputTokens, this.truncation);
      return { index, text: truncated, estimatedTokens: estimateTokens(truncated) };
    });
  }

  private embedBatch(batch: PreparedInput[], purpose: EmbeddingPurpose): Promise<number[][]> {
    const sendGuarded = (part: PreparedInput[]) =>
      this.concurrency.run(() => this.breaker.execute(() => this.send(part, purpose)));
    return withRetry(batch, sendGuarded, this.retryOptions);
  }

  /** Sends one HTTP request and returns its validated vectors, or throws a provider call error. */
  private async send(batch: PreparedInput[], purpose: EmbeddingPurpose): Promise<number[][]> {
    const request = this.buildRequest(
      batch.map((input) => input.text),
      purpose,
    );
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.apiKey) {
      headers.authorization = `Bearer ${this.apiKey}`;
    }

    const signal = AbortSignal.timeout(this.timeoutMs);
    let status: number;
    let retryAfter: string | null;
    let rawText: string;
    try {
      const response = await this.fetchImpl(request.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(request.body),
        signal,
      });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      rawText = await response.text();
    } catch (error) {
      if (signal.aborted) {
        throw new ProviderTimeoutError(this.providerName, this.timeoutMs);
      }
      throw new ProviderNetworkError(this.providerName, error);
    }

    const body = parseJson(rawText);
    if (status < 200 || status >= 300) {
      const message = this.readErrorMessage(body, rawText);
      throw new ProviderHttpError(this.providerName, status, message, parseRetryAfter(retryAfter, this.clock()));
    }
    if (body === undefined) {
      throw new UnavailableError(
        'embedder_invalid_response',
        `${this.providerName} returned ${status} with a body that is not JSON: ${abbreviate(rawText)}`,
        { provider: this.providerName, status },
      );
    }
    return this.validateVectors(this.readVectors(body, batch.length), batch);
  }

  private validateVectors(vectors: unknown, batch: PreparedInput[]): number[][] {
    if (!Array.isArray(vectors) || vectors.length !== batch.length) {
      const count = Array.isArray(vectors) ? `${vectors.length} vectors` : 'no vector list';
      throw new UnavailableError(
        'embedder_invalid_response',
        `${this.providerName} returned ${count} for ${batch.length} inputs.`,
        { provider: this.providerName, expected: batch.length },
      );
    }

    vectors.forEach((vector: unknown, position) => {
      const index = batch[position].index;
      if (!Array.isArray(vector)) {
        throw new UnavailableError(
          'embedder_invalid_response',
          `${this.providerName} returned no vector for the text at index ${index}.`,
          { provider: this.providerName, index },
        );
      }
      if (vector.length !== this.dimensions) {
        throw new InvalidInputError(
          'embedder_dimensions_mismatch',
          `${this.providerName} model ${this.model} returned a vector of length ${vector.length} for the text at index ${index}, ` +
            `but the embedder is configured with ${this.dimensions} dimensions; set dimensions to the model's output size.`,
          { provider: this.providerName, index, expected: this.dimensions, actual: vector.length },
        );
      }
      const badPosition = vector.findIndex((value) => typeof value !== 'number' || !Number.isFinite(value));
      if (badPosition !== -1) {
        throw new UnavailableError(
          'embedder_invalid_response',
          `${this.providerName} returned a non-finite value ${String(vector[badPosition])} at position ${badPosition} ` +
            `of the vector for the text at index ${index}.`,
          { provider: this.providerName, index, position: badPosition },
        );
      }
    });
    return vectors as number[][];
  }
}

/** Reads the message of the common error shapes: `{ error: { message } }`, `{ message }`, `{ error: "..." }`. */
export function readCommonErrorMessage(body: unknown, rawText: string): string {
  if (isRecord(body)) {
    if (isRecord(body.error) && typeof body.error.message === 'string') {
      return body.error.message;
    }
    if (typeof body.message === 'string') {
      return body.message;
    }
    if (typeof body.error === 'string') {
      return body.error;
    }
    if (typeof body.detail === 'string') {
      return body.detail;
    }
  }
  return rawText.trim() === '' ? 'no error message in the response' : abbreviate(rawText);
}

// The provider clients import it from here with the rest of their toolkit.
export { isRecord };

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function abbreviate(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** Drops user info and query from a URL so that it can appear in messages. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return 'an invalid URL';
  }
}

function validateOptions(providerName: string, options: ProviderEmbedderOptions): void {
  const reject = (field: string, value: unknown, expected: string): never => {
    throw new InvalidInputError(
      'invalid_embedder_options',
      `Invalid ${providerName} embedder ${field} ${field === 'apiKey' ? '(value hidden)' : JSON.stringify(value)}: expected ${expected}.`,
      { field },
    );
  };

  let url: URL | undefined;
  try {
    url = new URL(options.baseUrl);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    reject('baseUrl', options.baseUrl, 'an http or https URL');
  }
  if (typeof options.model !== 'string' || options.model.trim() === '') {
    reject('model', options.model, 'a non-empty model name');
  }
  if (!Number.isInteger(options.dimensions) || options.dimensions < 1) {
    reject('dimensions', options.dimensions, 'a positive integer');
  }
  if (options.apiKey !== undefined && typeof options.apiKey !== 'string') {
    reject('apiKey', options.apiKey, 'a string');
  }
  if (options.batchSize !== undefined && (!Number.isInteger(options.batchSize) || options.batchSize < 1)) {
    reject('batchSize', options.batchSize, 'a positive integer');
  }
  if (options.maxInputTokens !== undefined && (!Number.isInteger(options.maxInputTokens) || options.maxInputTokens < 1)) {
    reject('maxInputTokens', options.maxInputTokens, 'a positive integer');
  }
  if (!TRUNCATION_STRATEGIES.includes(options.truncation)) {
    reject('truncation', options.truncation, '"end", "start" or "none"');
  }
  if (options.timeoutMs !== undefined && (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0)) {
    reject('timeoutMs', options.timeoutMs, 'a positive number of milliseconds');
  }
}
