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

/**
 * The inference role states no request limits.
 * NOTE: the default batch of 64 texts is a guess that keeps requests small, not a measured
 * or documented limit. Set `batchSize` on the embedder to change it.
 */
export const INTERNAL_LIMITS: ProviderLimits = {
  maxInputsPerRequest: Number.MAX_SAFE_INTEGER,
  defaultBatchSize: 64,
};

/**
 * Embedder for the product's own inference role: `POST /api/embed` with `{ texts, model }`,
 * which returns `{ embeddings }`. `purpose` is not sent, because the endpoint has no such field.
 */
export class InternalEmbedder extends HttpEmbedder {
  constructor(options: ProviderEmbedderOptions, runtime?: ProviderRuntime) {
    super('Inference service', INTERNAL_LIMITS, options, runtime);
  }

  protected buildRequest(texts: string[], _purpose: EmbeddingPurpose): ProviderRequest {
    return { url: `${this.baseUrl}/api/embed`, body: { texts, model: this.model } };
  }

  protected readVectors(body: unknown): unknown {
    if (!isRecord(body) || !Array.isArray(body.embeddings)) {
      throw new UnavailableError('embedder_invalid_response', 'Inference service returned a response without embeddings.', {
        provider: this.providerName,
      });
    }
    return body.embeddings;
  }
}
