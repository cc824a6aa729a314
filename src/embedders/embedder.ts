/**
 * Whether texts are stored documents or search queries. Asymmetric models prefix or
 * encode the two differently; symmetric embedders ignore it.
 */
export type EmbeddingPurpose = 'document' | 'query';

/** Port for turning texts into fixed-size vectors. */
export interface Embedder {
  /** Length of every vector that `embed` returns. */
  readonly dimensions: number;

  /** Returns one vector per text, in input order. */
  embed(texts: string[], purpose: EmbeddingPurpose): Promise<number[][]>;
}
