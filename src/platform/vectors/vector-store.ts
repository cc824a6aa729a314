export interface VectorPoint {
  /** UUID, stored lowercase. */
  id: string;
  vector: number[];
  payload: Record<string, unknown>;
}

export interface ScoredPoint {
  id: string;
  /** Cosine similarity in [-1, 1]. A zero vector scores 0 against everything. */
  score: number;
  payload: Record<string, unknown>;
}

/**
 * Condition on a top-level payload field, shaped like Qdrant's `FieldCondition`. As in
 * Qdrant, a field that stores an array matches when any of its elements matches.
 * `match.any` with an empty list matches nothing.
 */
export type FieldCondition = {
  key: string;
  match: { value: string | number | boolean } | { any: Array<string | number> };
};

/** Subset of Qdrant's filter. A point matches when every `must` condition and no `must_not` condition matches. */
export interface PayloadFilter {
  must?: FieldCondition[];
  must_not?: FieldCondition[];
}

export interface SearchOptions {
  /** Maximum number of points to return, 1 to 10,000. */
  limit: number;
  filter?: PayloadFilter;
  /** Minimum score, inclusive. */
  scoreThreshold?: number;
}

/**
 * Port for collections of fixed-size vectors with JSON payloads, searched by cosine
 * similarity. Written so the Postgres adapter and a Qdrant adapter behave the same.
 *
 * Errors: NotFoundError `vector_collection_not_found` for an unknown collection;
 * InvalidInputError for a malformed name, id, vector or filter; ConflictError
 * `vector_dimension_mismatch` when a collection exists with other dimensions.
 *
 * Declared as an abstract class so that Nest can use it as an injection token.
 */
export abstract class VectorStore {
  abstract readonly kind: 'postgres' | 'qdrant';

  /** Creates the collection unless it exists with the same dimensions. */
  abstract ensureCollection(name: string, dimensions: number): Promise<void>;

  abstract collectionExists(name: string): Promise<boolean>;

  /** Deletes the collection and its points. A missing collection is not an error. */
  abstract deleteCollection(name: string): Promise<void>;

  /**
   * Inserts points, replacing vector and payload of points with the same id. When one
   * call repeats an id, the last point wins. Every point is validated before any is written.
   */
  abstract upsert(name: string, points: VectorPoint[]): Promise<void>;

  /** Deletes points by id. Unknown ids are ignored. */
  abstract deletePoints(name: string, ids: string[]): Promise<void>;

  /**
   * Deletes the points that match `filter` and returns how many were deleted. A filter
   * without conditions is rejected, so a bug cannot empty a collection; use
   * deleteCollection for that.
   */
  abstract deleteByFilter(name: string, filter: PayloadFilter): Promise<number>;

  abstract count(name: string, filter?: PayloadFilter): Promise<number>;

  /** Returns the nearest points by cosine similarity, best first. */
  abstract search(name: string, vector: number[], options: SearchOptions): Promise<ScoredPoint[]>;

  /** Throws UnavailableError `vector_store_unavailable` when the store cannot be used. */
  abstract checkHealth(): Promise<void>;
}
