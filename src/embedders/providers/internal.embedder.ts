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
 * The inference role accepts INFERENCE_MAX_BATCH_SIZE texts per request, 128 by default. A
 * service configured lower returns 413, and the retry splits the batch until it fits.
 */
export const INTERNAL_LIMITS: ProviderLimits = {
  maxInputsPerRequest: 128,
  defaultBatchSize: 64,
};

/**
 * Embedder for the product's own inference role: `POST /api/embed` with `{ texts, model,
 * input_type }`, which returns `{ embeddings }`. `input_type` selects the model's query or
 * document prompt.
 */
export class InternalEmbedder extends HttpEmbedder {
  constructor(options: ProviderEmbedderOptions, runtime?: ProviderRuntime) {
    super('Inference service', INTERNAL_LIMITS, options, runtime);
  }

  protected buildRequest(texts: string[], purpose: EmbeddingPurpose): ProviderRequest {
    return { url: `${this.baseUrl}/api/embed`, body: { texts, model: this.model, input_type: purpose } };
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
