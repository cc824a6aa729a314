import { Readable } from 'node:stream';

export interface PutBlobOptions {
  /** MIME type stored with the blob where the backend supports it (S3 does, the filesystem does not). */
  contentType?: string;
  /** Maximum size in bytes. A larger body is rejected and nothing is stored. */
  maxBytes?: number;
}

export interface StoredBlob {
  key: string;
  /** Size in bytes. */
  size: number;
  /** Lowercase hex SHA-256 of the stored bytes, computed while the body streams through. */
  sha256: string;
}

/**
 * Port for opaque binary objects addressed by a slash-separated key such as
 * `collections/<id>/files/<id>`. Keys are validated by `assertValidBlobKey`, so the same
 * key works with every adapter.
 *
 * Declared as an abstract class, not an interface, so that Nest can use it as an
 * injection token.
 */
export abstract class BlobStore {
  abstract readonly kind: 'filesystem' | 's3';

  /**
   * Streams `body` into the store under `key`, replacing any blob stored there.
   * Throws InvalidInputError `blob_too_large` when the body exceeds `options.maxBytes`.
   * In that case nothing new is stored and an older blob under the key stays as it was.
   */
  abstract put(key: string, body: Readable | Buffer, options?: PutBlobOptions): Promise<StoredBlob>;

  /** Opens the blob for reading. Throws NotFoundError `blob_not_found` when it is missing. */
  abstract get(key: string): Promise<Readable>;

  /**
   * Reads the whole blob into memory. Throws NotFoundError `blob_not_found` when it is
   * missing and InvalidInputError `blob_too_large` when it is larger than `maxBytes`.
   */
  abstract getBuffer(key: string, maxBytes?: number): Promise<Buffer>;

  /** Returns the blob's size in bytes, or null when it is missing. */
  abstract stat(key: string): Promise<{ size: number } | null>;

  /** Deletes the blob. A missing key is not an error. */
  abstract delete(key: string): Promise<void>;

  /**
   * Deletes every blob whose key starts with `prefix` (a plain string prefix, as in S3,
   * so `docs/1` also matches `docs/10/a`) and returns how many were deleted.
   */
  abstract deletePrefix(prefix: string): Promise<number>;

  /** Throws UnavailableError `blob_store_unavailable` when the store cannot be used. */
  abstract checkHealth(): Promise<void>;
}
