export { CohereEmbedder, COHERE_LIMITS, cohereEndpoint } from 'src/embedders/providers/cohere.embedder';
export { HttpEmbedder } from 'src/embedders/providers/http-embedder';
export type { ProviderEmbedderOptions, ProviderLimits, ProviderRuntime } from 'src/embedders/providers/http-embedder';
export { InternalEmbedder, INTERNAL_LIMITS } from 'src/embedders/providers/internal.embedder';
export { OpenAiEmbedder, OPENAI_LIMITS } from 'src/embedders/providers/openai.embedder';
export type { OpenAiEmbedderOptions } from 'src/embedders/providers/openai.embedder';
export { estimateTokens } from 'src/embedders/providers/token-budget';
export type { TruncationStrategy } from 'src/embedders/providers/token-budget';
