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

/** Cohere's v2 embed API accepts at most 96 texts per request. */
export const COHERE_LIMITS: ProviderLimits = {
  maxInputsPerRequest: 96,
  defaultBatchSize: 96,
};

/**
 * Embedder for Cohere's `POST /v2/embed`. Documents are sent as `search_document` and
 * queries as `search_query`. `truncate: 'NONE'` makes Cohere reject a text that is too long
 * instead of cutting it silently, and this client truncates by its own `truncation` option
 * beforehand.
 */
export class CohereEmbedder extends HttpEmbedder {
  private readonly endpoint: string;

  constructor(options: ProviderEmbedderOptions, runtime?: ProviderRuntime) {
    super('Cohere', COHERE_LIMITS, options, runtime);
    this.endpoint = cohereEndpoint(this.baseUrl);
  }

  protected buildRequest(texts: string[], purpose: EmbeddingPurpose): ProviderRequest {
    return {
      url: this.endpoint,
      body: {
        texts,
        model: this.model,
        input_type: purpose === 'query' ? 'search_query' : 'search_document',
        embedding_types: ['float'],
        truncate: 'NONE',
      },
    };
  }

  protected readVectors(body: unknown): unknown {
    const embeddings = isRecord(body) ? body.embeddings : undefined;
    if (!isRecord(embeddings)) {
      throw new UnavailableError('embedder_invalid_response', 'Cohere returned a response without embeddings.float.', {
        provider: this.providerName,
      });
    }
    return embeddings.float;
  }
}

/**
 * Returns the embed URL for a base URL: used as is when it already ends in `/embed`,
 * `<base>/embed` when it ends in `/v2`, else `<base>/v2/embed`.
 */
export function cohereEndpoint(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, '');
  if (trimmed.endsWith('/embed')) {
    return trimmed;
  }
  if (trimmed.endsWith('/v2')) {
    return `${trimmed}/embed`;
  }
  return `${trimmed}/v2/embed`;
}
