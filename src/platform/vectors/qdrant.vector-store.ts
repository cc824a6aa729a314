import { Logger } from '@nestjs/common';
import { QdrantClient, QdrantClientTimeoutError, Schemas } from '@qdrant/js-client-rest';
import { AppError, ConflictError, InvalidInputError, NotFoundError, UnavailableError } from 'src/common/app-error';
import { QdrantConfig } from 'src/config/app-config';
import { FieldCondition, PayloadFilter, ScoredPoint, SearchOptions, VectorPoint, VectorStore } from 'src/platform/vectors/vector-store';
import {
  assertValidCollectionName,
  assertValidDimensions,
  assertValidFilter,
  assertValidSearchOptions,
  assertValidVector,
  filterHasConditions,
  MAX_SEARCH_LIMIT,
  normalizePointId,
  preparePoints,
} from 'src/platform/vectors/vector-validation';

/** Payload fields the application filters by. Each gets a keyword index when a collection is created. */
export const QDRANT_INDEXED_PAYLOAD_FIELDS = [
  'item_id',
  'file_id',
  'collection_id',
  'collection_transform_id',
  'source_file',
  'dataset_id',
  'chunk_id',
] as const;

const DELETE_BATCH_IDS = 1000;
const DEFAULT_SCROLL_LIMIT = 256;

export interface QdrantScrollOptions {
  /** Points per page, 1 to 10,000. Default 256. */
  limit?: number;
  /** Id to start from (inclusive), taken from the previous page's `nextOffset`. */
  offset?: string;
  filter?: PayloadFilter;
  withVectors?: boolean;
}

export interface QdrantScrollPage {
  points: Array<{ id: string; payload: Record<string, unknown>; vector?: number[] }>;
  /** Offset of the next page, or null after the last page. */
  nextOffset: string | null;
}

/**
 * VectorStore on Qdrant, one Qdrant collection per vector collection, with Cosine
 * distance. Qdrant stores Cosine vectors normalised to unit length, so its dot-product
 * scores are cosine similarities. Search uses the HNSW index once Qdrant has built one,
 * so on large collections results are approximate, unlike the exact Postgres adapter.
 */
export class QdrantVectorStore extends VectorStore {
  readonly kind = 'qdrant' as const;
  private readonly logger = new Logger(QdrantVectorStore.name);
  private readonly client: QdrantClient;

  constructor(private readonly config: QdrantConfig) {
    super();
    // The key goes in a header instead of the client's apiKey option, because that option
    // prints to the console over plain HTTP. This class logs the warning once instead.
    const headers = config.apiKey === undefined ? undefined : { 'api-key': config.apiKey };
    if (config.apiKey !== undefined && config.url.startsWith('http://')) {
      this.logger.warn(`QDRANT_API_KEY is sent over plain HTTP to ${config.url}. Use https outside a private network.`);
    }
    this.client = new QdrantClient({
      url: config.url,
      headers,
      timeout: config.timeoutSecs * 1000,
      // The check runs in the background and reports through console.warn only.
      checkCompatibility: false,
    });
  }

  async ensureCollection(name: string, dimensions: number): Promise<void> {
    assertValidCollectionName(name);
    assertValidDimensions(dimensions);
    // A concurrent creator can win between the read and the create (409), so the loop reads again.
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const existing = await this.findCollection(name);
      if (existing !== null) {
        assertSameDimensions(name, existing, dimensions);
        await this.createMissingIndexes(name, existing);
        return;
      }
      try {
        await this.client.createCollection(name, {
          vectors: { size: dimensions, distance: 'Cosine' },
          on_disk_payload: true,
          quantization_config: quantizationConfig(this.config.quantization),
        });
      } catch (error) {
        if (httpStatus(error) === 409) {
          continue;
        }
        throw this.mapError(error, name, 'create');
      }
      this.logger.log(`Created Qdrant collection "${name}" with ${dimensions} dimensions (quantization: ${this.config.quantization}).`);
      await this.createMissingIndexes(name, null);
      return;
    }
    throw new UnavailableError(
      'vector_store_unavailable',
      `Vector collection "${name}" was created and deleted concurrently three times; retry the request.`,
      { collection: name },
    );
  }

  async collectionExists(name: string): Promise<boolean> {
    assertValidCollectionName(name);
    try {
      return (await this.client.collectionExists(name)).exists;
    } catch (error) {
      throw this.mapError(error, name, 'check');
    }
  }

  async deleteCollection(name: string): Promise<void> {
    assertValidCollectionName(name);
    try {
      // Qdrant returns false, not an error, for a missing collection.
      await this.client.deleteCollection(name);
    } catch (error) {
      throw this.mapError(error, name, 'delete');
    }
  }

  /**
   * Sends the points in batches of QDRANT_UPSERT_BATCH_SIZE, each waiting until Qdrant
   * has applied it.
   */
  async upsert(name: string, points: VectorPoint[]): Promise<void> {
    assertValidCollectionName(name);
    const dimensions = await this.requireDimensions(name);
    const prepared = preparePoints(points, dimensions);
    const batchSize = this.config.upsertBatchSize;
    // NOTE: batches are not one transaction. When a later batch fails, earlier ones stay written.
    for (let start = 0; start < prepared.length; start += batchSize) {
      const batch = prepared.slice(start, start + batchSize).map((point) => ({
        id: point.id,
        vector: point.vector,
        payload: JSON.parse(point.payloadJson) as Record<string, unknown>,
      }));
      try {
        await this.client.upsert(name, { wait: true, points: batch });
      } catch (error) {
        throw this.mapError(error, name, 'upsert points into');
      }
    }
  }

  async deletePoints(name: string, ids: string[]): Promise<void> {
    assertValidCollectionName(name);
    const normalizedIds = ids.map((id) => normalizePointId(id));
    if (normalizedIds.length === 0) {
      // Nothing to delete, but an unknown collection is still reported.
      await this.requireDimensions(name);
      return;
    }
    for (let start = 0; start < normalizedIds.length; start += DELETE_BATCH_IDS) {
      try {
        await this.client.delete(name, { wait: true, points: normalizedIds.slice(start, start + DELETE_BATCH_IDS) });
      } catch (error) {
        throw this.mapError(error, name, 'delete points from');
      }
    }
  }

  async deleteByFilter(name: string, filter: PayloadFilter): Promise<number> {
    assertValidCollectionName(name);
    assertValidFilter(filter);
    if (!filterHasConditions(filter)) {
      throw new InvalidInputError(
        'empty_vector_filter',
        `Refusing to delete by a filter without conditions in vector collection "${name}"; use deleteCollection to remove every point.`,
        { collection: name },
      );
    }
    // Defined, because the filter has conditions.
    const qdrantFilter = toQdrantFilter(filter)!;
    try {
      // Qdrant's delete does not return how many points it removed, so they are counted first.
      // NOTE: points written or deleted by others between the two requests make the count inexact.
      const { count } = await this.client.count(name, { filter: qdrantFilter, exact: true });
      await this.client.delete(name, { wait: true, filter: qdrantFilter });
      return count;
    } catch (error) {
      throw this.mapError(error, name, 'delete points by filter from');
    }
  }

  async count(name: string, filter?: PayloadFilter): Promise<number> {
    assertValidCollectionName(name);
    if (filter !== undefined) {
      assertValidFilter(filter);
    }
    try {
      return (await this.client.count(name, { filter: toQdrantFilter(filter), exact: true })).count;
    } catch (error) {
      throw this.mapError(error, name, 'count points in');
    }
  }

  async search(name: string, vector: number[], options: SearchOptions): Promise<ScoredPoint[]> {
    assertValidCollectionName(name);
    assertValidSearchOptions(options);
    const dimensions = await this.requireDimensions(name);
    assertValidVector(vector, dimensions, 'Query vector');
    try {
      const response = await this.client.query(name, {
        query: vector,
        limit: options.limit,
        filter: toQdrantFilter(options.filter),
        score_threshold: options.scoreThreshold,
        with_payload: true,
        with_vector: false,
      });
      return response.points.map((point) => ({
        id: String(point.id),
        score: point.score,
        payload: (point.payload ?? {}) as Record<string, unknown>,
      }));
    } catch (error) {
      throw this.mapError(error, name, 'search');
    }
  }

  /**
   * Reads one page of points in id order, for exporting a whole collection: pass each
   * page's `nextOffset` as the next `offset` until it is null. Vectors come back
   * normalised to unit length, because Qdrant stores Cosine vectors that way.
   */
  async scroll(name: string, options: QdrantScrollOptions = {}): Promise<QdrantScrollPage> {
    assertValidCollectionName(name);
    const limit = options.limit ?? DEFAULT_SCROLL_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) {
      throw new InvalidInputError(
        'invalid_scroll_limit',
        `Invalid scroll limit ${String(limit)}: expected an integer from 1 to ${MAX_SEARCH_LIMIT}.`,
        { limit },
      );
    }
    if (options.filter !== undefined) {
      assertValidFilter(options.filter);
    }
    const offset = options.offset === undefined ? undefined : normalizePointId(options.offset);
    try {
      const result = await this.client.scroll(name, {
        limit,
        offset,
        filter: toQdrantFilter(options.filter),
        with_payload: true,
        with_vector: options.withVectors ?? false,
      });
      const nextOffset = result.next_page_offset;
      return {
        points: result.points.map((point) => ({
          id: String(point.id),
          payload: (point.payload ?? {}) as Record<string, unknown>,
          ...(options.withVectors ? { vector: point.vector as number[] } : {}),
        })),
        nextOffset: nextOffset === null || nextOffset === undefined ? null : String(nextOffset),
      };
    } catch (error) {
      throw this.mapError(error, name, 'scroll');
    }
  }

  async checkHealth(): Promise<void> {
    try {
      // Listing collections, unlike GET /healthz, also checks the API key.
      await this.client.getCollections();
    } catch (error) {
      throw new UnavailableError(
        'vector_store_unavailable',
        `Qdrant at ${this.config.url} is not usable: ${describeError(error)}. Check QDRANT_URL, QDRANT_API_KEY and that Qdrant is running.`,
        {},
        { cause: error },
      );
    }
  }

  private async findCollection(name: string): Promise<Schemas['CollectionInfo'] | null> {
    try {
      return await this.client.getCollection(name);
    } catch (error) {
      if (httpStatus(error) === 404) {
        return null;
      }
      throw this.mapError(error, name, 'read');
    }
  }

  private async requireDimensions(name: string): Promise<number> {
    // NOTE: one extra request per upsert and search, so that dimensions are checked
    // locally with the same errors as the Postgres adapter.
    const info = await this.findCollection(name);
    if (info === null) {
      throw collectionNotFoundError(name);
    }
    return readVectorParams(name, info).size;
  }

  /** Creates the keyword indexes that `existing` lacks; `null` means a new collection without any. */
  private async createMissingIndexes(name: string, existing: Schemas['CollectionInfo'] | null): Promise<void> {
    const present = new Set(Object.keys(existing?.payload_schema ?? {}));
    for (const field of QDRANT_INDEXED_PAYLOAD_FIELDS) {
      if (present.has(field)) {
        continue;
      }
      try {
        await this.client.createPayloadIndex(name, { field_name: field, field_schema: 'keyword', wait: true });
      } catch (error) {
        throw this.mapError(error, name, `create the payload index on "${field}" of`);
      }
    }
  }

  /** Converts a client error into an AppError whose message names the collection and the action. */
  private mapError(error: unknown, name: string, action: string): Error {
    if (error instanceof AppError) {
      return error;
    }
    const status = httpStatus(error);
    const details = { collection: name, status };
    const problem = isTimeout(error)
      ? `timed out after ${this.config.timeoutSecs} s (QDRANT_TIMEOUT_SECS)`
      : describeError(error);
    if (status === 404) {
      return collectionNotFoundError(name);
    }
    if (status === 400 || status === 422) {
      return new InvalidInputError(
        'invalid_vector_request',
        `Qdrant rejected the request to ${action} vector collection "${name}": ${problem}.`,
        details,
        { cause: error },
      );
    }
    if (status === 409) {
      return new ConflictError('vector_collection_conflict', `Qdrant reported a conflict on vector collection "${name}": ${problem}.`, details);
    }
    const unavailable = status === 401 || status === 403 || status === 429 || (status !== undefined && status >= 500);
    if (unavailable || isTimeout(error) || isNetworkError(error)) {
      this.logger.warn(`Qdrant request to ${action} vector collection "${name}" failed: ${problem}`);
      return new UnavailableError(
        'vector_store_unavailable',
        `Could not ${action} vector collection "${name}" in Qdrant: ${problem}.`,
        details,
        { cause: error },
      );
    }
    return error as Error;
  }
}

/** Returns Qdrant's `quantization_config` for QDRANT_QUANTIZATION_TYPE, or undefined for none (float32 vectors only). */
export function quantizationConfig(type: QdrantConfig['quantization']): Schemas['QuantizationConfig'] | undefined {
  switch (type) {
    case 'none':
      return undefined;
    case 'scalar':
      return { scalar: { type: 'int8' } };
    case 'product':
      return { product: { compression: 'x16' } };
  }
}

/**
 * Converts a validated PayloadFilter into Qdrant's filter, or undefined when it has no
 * conditions. Keys that Qdrant would read as a path are sent quoted.
 */
export function toQdrantFilter(filter: PayloadFilter | undefined): Schemas['Filter'] | undefined {
  if (!filterHasConditions(filter)) {
    return undefined;
  }
  const result: Schemas['Filter'] = {};
  if (filter?.must?.length) {
    result.must = filter.must.map(toQdrantCondition);
  }
  if (filter?.must_not?.length) {
    result.must_not = filter.must_not.map(toQdrantCondition);
  }
  return result;
}

function toQdrantCondition(condition: FieldCondition): Schemas['FieldCondition'] {
  return { key: quoteKey(condition.key), match: condition.match as Schemas['Match'] };
}

/**
 * Qdrant parses a filter key as a JSON path: plain segments of letters, digits, "_" and
 * "-", or double-quoted segments that cannot contain `"` or `\`.
 */
function quoteKey(key: string): string {
  if (/^[\p{L}\p{N}_-]+$/u.test(key)) {
    return key;
  }
  if (/["\\]/.test(key)) {
    throw new InvalidInputError(
      'invalid_vector_filter',
      `Invalid payload filter: key ${JSON.stringify(key)} contains '"' or '\\', which Qdrant filter keys cannot express.`,
      { key },
    );
  }
  return `"${key}"`;
}

function readVectorParams(name: string, info: Schemas['CollectionInfo']): Schemas['VectorParams'] {
  const vectors = info.config.params.vectors as Schemas['VectorParams'] | Record<string, Schemas['VectorParams']> | undefined;
  if (vectors === undefined || typeof vectors.size !== 'number') {
    throw new ConflictError(
      'vector_collection_incompatible',
      `Qdrant collection "${name}" uses named or sparse vectors; this application expects one unnamed dense vector.`,
      { collection: name },
    );
  }
  return vectors as Schemas['VectorParams'];
}

function assertSameDimensions(name: string, info: Schemas['CollectionInfo'], dimensions: number): void {
  const params = readVectorParams(name, info);
  if (params.size !== dimensions) {
    throw new ConflictError(
      'vector_dimension_mismatch',
      `Vector collection "${name}" exists with ${params.size} dimensions, but ${dimensions} were requested.`,
      { collection: name, expected: params.size, actual: dimensions },
    );
  }
  if (params.distance !== 'Cosine') {
    throw new ConflictError(
      'vector_collection_incompatible',
      `Qdrant collection "${name}" uses ${params.distance} distance; this application expects Cosine.`,
      { collection: name, distance: params.distance },
    );
  }
}

function collectionNotFoundError(name: string): NotFoundError {
  return new NotFoundError('vector_collection_not_found', `Vector collection "${name}" was not found.`, {
    collection: name,
  });
}

/** HTTP status of a failed client call (the fetcher's ApiError carries it), if any. */
function httpStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** Qdrant's own error text when the response had one, otherwise the error's message. */
function describeError(error: unknown): string {
  const data = (error as { data?: unknown } | null)?.data;
  const qdrantMessage = (data as { status?: { error?: unknown } } | null)?.status?.error;
  if (typeof qdrantMessage === 'string') {
    return qdrantMessage;
  }
  const status = httpStatus(error);
  if (status !== undefined) {
    return `HTTP ${status}${typeof data === 'string' && data.length > 0 ? ` (${data})` : ''}`;
  }
  const cause = (error as { cause?: { message?: unknown } } | null)?.cause?.message;
  const ownMessage = (error as { message?: unknown } | null)?.message;
  const message = typeof ownMessage === 'string' ? ownMessage : String(error);
  return typeof cause === 'string' ? `${message} (${cause})` : message;
}

// Both checks compare names, not classes, because Node's fetch creates its errors in
// another realm than Jest's test code, where instanceof Error is false.

/** Node's fetch (undici) raises TypeError "fetch failed" for refused or reset connections. */
function isNetworkError(error: unknown): boolean {
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  return name === 'TypeError' && message === 'fetch failed';
}

/**
 * Detects the client's timeout, which aborts the request. The client wraps the abort in
 * QdrantClientTimeoutError only when it is an Error, which Node's DOMException is not in every realm.
 */
function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return error instanceof QdrantClientTimeoutError || name === 'AbortError' || name === 'TimeoutError';
}
