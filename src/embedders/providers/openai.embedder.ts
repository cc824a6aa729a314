import { UnavailableError } from 'src/common/app-error';
import { EmbeddingPurpose } from 'src/embedders/embedder';
import {
  HttpEmbedder,
  ProviderEmbedderOptions,
  ProviderLimits,
  ProviderRequest,
  ProviderRuntime,
  isRecord,
} from 'src/embedders/providers/http-embedder';

export interface OpenAiEmbedderOptions extends ProviderEmbedderOptions {
  /**
   * Whether to send `dimensions` in the request. Default true. OpenAI's text-embedding-3
   * models shorten their vectors to it. Set false for servers or models that reject the field.
   */
  sendDimensions?: boolean;
}

/**
 * Limits of OpenAI's embeddings API as documented for text-embedding-3: at most 2,048
 * inputs and 300,000 tokens per request.
 */
export const OPENAI_LIMITS: ProviderLimits = {
  maxInputsPerRequest: 2048,
  maxTokensPerRequest: 300_000,
  defaultBatchSize: 2048,
};

/**
 * Embedder for OpenAI's `POST /embeddings` and servers that copy it (vLLM, Ollama, Text
 * Embeddings Inference). `purpose` is not sent, because the API has no such field.
 */
export class OpenAiEmbedder extends HttpEmbedder {
  private readonly sendDimensions: boolean;

  constructor(options: OpenAiEmbedderOptions, runtime?: ProviderRuntime) {
    super('OpenAI', OPENAI_LIMITS, options, runtime);
    this.sendDimensions = options.sendDimensions ?? true;
  }

  protected buildRequest(texts: string[], _purpose: EmbeddingPurpose): ProviderRequest {
    const body: Record<string, unknown> = { input: texts, model: this.model };
    if (this.sendDimensions) {
      body.dimensions = this.dimensions;
    }
    return { url: `${this.baseUrl}/embeddings`, body };
  }

  /** Orders `data[]` by `index`, which the API does not promise to return in request order. */
  protected readVectors(body: unknown, inputCount: number): unknown {
    const data = isRecord(body) ? body.data : undefined;
    if (!Array.isArray(data)) {
      throw new UnavailableError('embedder_invalid_response', 'OpenAI returned a response without a data list.', {
        provider: this.providerName,
      });
    }

    const vectors: unknown[] = new Array(data.length);
    const seen = new Set<number>();
    for (const item of data) {
      const index = isRecord(item) ? item.index : undefined;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= inputCount || seen.has(index)) {
        throw new UnavailableError(
          'embedder_invalid_response',
          `OpenAI returned an embedding with index ${JSON.stringify(index)}, expected each of 0 to ${inputCount - 1} once.`,
          { provider: this.providerName },
        );
      }
      seen.add(index);
      vectors[index] = (item as Record<string, unknown>).embedding;
    }
    return vectors;
  }
}
