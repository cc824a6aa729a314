import { createServer, IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { formatError, matchesFilter, parseFilter, ParsedFilter, QdrantDoubleError } from './qdrant-double-filter';

/**
 * In-memory test double of the Qdrant REST API (request and response shapes from
 * Qdrant's OpenAPI document, version 1.19). It implements only the endpoints that
 * QdrantVectorStore calls, for single unnamed vectors:
 *
 *   GET    /collections, /collections/{name}, /collections/{name}/exists
 *   PUT    /collections/{name}            DELETE /collections/{name}
 *   PUT    /collections/{name}/index
 *   PUT    /collections/{name}/points     (list form: {"points": [...]})
 *   POST   /collections/{name}/points/delete | count | query | scroll
 *
 * Search is exact (no HNSW) and scores are computed in float64 and rounded to float32,
 * so results match a real server's exact search, not its approximate one. Requests it
 * does not model (named vectors, batch form, range conditions, Euclid and Manhattan
 * queries ...) get 400 with a message starting "Unsupported by the Qdrant double".
 */
export interface QdrantDouble {
  /** Base URL, for example http://127.0.0.1:40123. */
  url: string;
  /** Every request received, oldest first, including rejected ones. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, or undefined when the request had none. */
  body: unknown;
}

export interface QdrantDoubleOptions {
  /** When set, every request must send it in the `api-key` header or as a bearer token. */
  apiKey?: string;
}

type PointId = number | string;

interface StoredPoint {
  id: PointId;
  vector: number[];
  payload: Record<string, unknown>;
  version: number;
}

interface Collection {
  size: number;
  distance: Distance;
  /** The create request's body, returned in parts by GET /collections/{name}. */
  createRequest: Record<string, unknown>;
  payloadSchema: Record<string, { data_type: string }>;
  /** Keyed by the id's canonical text, so that 1 and "1" differ from UUID keys. */
  points: Map<string, StoredPoint>;
  operationId: number;
}

const DISTANCES = ['Cosine', 'Euclid', 'Dot', 'Manhattan'] as const;
type Distance = (typeof DISTANCES)[number];
const PAYLOAD_SCHEMA_TYPES = new Set(['keyword', 'integer', 'float', 'geo', 'text', 'bool', 'datetime', 'uuid']);
const COMPRESSION_RATIOS = new Set(['x4', 'x8', 'x16', 'x32', 'x64']);
const UUID_PATTERN = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Starts the double on 127.0.0.1 with a free port. */
export async function startQdrantDouble(options: QdrantDoubleOptions = {}): Promise<QdrantDouble> {
  const collections = new Map<string, Collection>();
  const requests: RecordedRequest[] = [];

  const server = createServer((request, response) => {
    void handle(request, response, collections, requests, options);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  collections: Map<string, Collection>,
  requests: RecordedRequest[],
  options: QdrantDoubleOptions,
): Promise<void> {
  const started = process.hrtime.bigint();
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const recorded: RecordedRequest = {
    method: request.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: request.headers,
    body: undefined,
  };
  requests.push(recorded);

  try {
    const text = await readBody(request);
    let parseError: Error | null = null;
    try {
      recorded.body = text.length > 0 ? JSON.parse(text) : undefined;
    } catch (error) {
      parseError = error as Error;
    }
    // Authentication comes before any check of the body, as in Qdrant.
    if (options.apiKey !== undefined && !hasValidApiKey(request.headers, options.apiKey)) {
      // Real Qdrant responds 401 with a plain-text body here, not the JSON envelope.
      response.writeHead(401, { 'content-type': 'text/plain' });
      response.end('Must provide an API key or an Authorization bearer token');
      return;
    }
    if (parseError !== null) {
      throw formatError(parseError.message);
    }
    const result = route(recorded, collections);
    sendJson(response, 200, { result, status: 'ok', time: elapsedSeconds(started) });
  } catch (error) {
    const statusCode = error instanceof QdrantDoubleError ? error.statusCode : 500;
    const message = error instanceof Error ? error.message : String(error);
    sendJson(response, statusCode, { status: { error: message }, time: elapsedSeconds(started) });
  }
}

function route(request: RecordedRequest, collections: Map<string, Collection>): unknown {
  const segments = request.path.split('/').filter((segment) => segment.length > 0).map(decodeURIComponent);
  const key = `${request.method} /${segments.map((segment, index) => (index === 1 ? '{name}' : segment)).join('/')}`;
  const name = segments[1];
  const body = (request.body ?? {}) as Record<string, unknown>;

  switch (key) {
    case 'GET /collections':
      return { collections: [...collections.keys()].map((collectionName) => ({ name: collectionName })) };
    case 'GET /collections/{name}/exists':
      return { exists: collections.has(name) };
    case 'GET /collections/{name}':
      return describeCollection(requireCollection(collections, name));
    case 'PUT /collections/{name}':
      createCollection(collections, name, body);
      return true;
    case 'DELETE /collections/{name}':
      return collections.delete(name);
    case 'PUT /collections/{name}/index':
      return createFieldIndex(requireCollection(collections, name), body);
    case 'PUT /collections/{name}/points':
      return upsertPoints(requireCollection(collections, name), body);
    case 'POST /collections/{name}/points/delete':
      return deletePoints(requireCollection(collections, name), body);
    case 'POST /collections/{name}/points/count':
      return countPoints(requireCollection(collections, name), body);
    case 'POST /collections/{name}/points/query':
      return queryPoints(requireCollection(collections, name), body);
    case 'POST /collections/{name}/points/scroll':
      return scrollPoints(requireCollection(collections, name), body);
    default:
      throw new QdrantDoubleError(404, `Unsupported by the Qdrant double: ${request.method} ${request.path}`);
  }
}

function requireCollection(collections: Map<string, Collection>, name: string): Collection {
  const collection = collections.get(name);
  if (!collection) {
    throw new QdrantDoubleError(404, `Not found: Collection \`${name}\` doesn't exist!`);
  }
  return collection;
}

function createCollection(collections: Map<string, Collection>, name: string, body: Record<string, unknown>): void {
  if (!/^[^/\\<>:"|?*\0]{1,255}$/.test(name) || name.startsWith('.')) {
    throw new QdrantDoubleError(400, `Validation error in path parameters: [name: invalid collection name "${name}"]`);
  }
  const vectors = body.vectors as Record<string, unknown> | undefined;
  if (typeof vectors !== 'object' || vectors === null || !('size' in vectors)) {
    throw new QdrantDoubleError(400, 'Unsupported by the Qdrant double: only a single unnamed vector ({"size", "distance"}) is modelled');
  }
  const size = vectors.size;
  if (!Number.isInteger(size) || (size as number) < 1 || (size as number) > 65_536) {
    throw new QdrantDoubleError(400, `Validation error in JSON body: [vectors.size: value ${String(size)} invalid, must be from 1 to 65536]`);
  }
  if (!DISTANCES.includes(vectors.distance as Distance)) {
    throw formatError(`vectors.distance: unknown variant \`${String(vectors.distance)}\`, expected one of ${DISTANCES.join(', ')}`);
  }
  validateQuantization(body.quantization_config);
  if (collections.has(name)) {
    throw new QdrantDoubleError(409, `Wrong input: Collection \`${name}\` already exists!`);
  }
  collections.set(name, {
    size: size as number,
    distance: vectors.distance as Distance,
    createRequest: body,
    payloadSchema: {},
    points: new Map(),
    operationId: 0,
  });
}

function validateQuantization(config: unknown): void {
  if (config === undefined || config === null) {
    return;
  }
  const record = config as Record<string, Record<string, unknown> | undefined>;
  if (record.scalar !== undefined) {
    if (record.scalar?.type !== 'int8') {
      throw formatError(`quantization_config.scalar.type: unknown variant \`${String(record.scalar?.type)}\`, expected \`int8\``);
    }
    return;
  }
  if (record.product !== undefined) {
    if (!COMPRESSION_RATIOS.has(record.product?.compression as string)) {
      throw formatError(`quantization_config.product.compression: unknown variant \`${String(record.product?.compression)}\``);
    }
    return;
  }
  if (record.binary !== undefined) {
    return;
  }
  throw formatError('quantization_config: data did not match any variant of untagged enum QuantizationConfig');
}

function describeCollection(collection: Collection): unknown {
  const request = collection.createRequest;
  return {
    status: 'green',
    optimizer_status: 'ok',
    segments_count: 1,
    points_count: collection.points.size,
    indexed_vectors_count: 0,
    config: {
      params: {
        vectors: { size: collection.size, distance: collection.distance },
        shard_number: 1,
        replication_factor: 1,
        write_consistency_factor: 1,
        on_disk_payload: request.on_disk_payload ?? true,
      },
      hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10_000, max_indexing_threads: 0, on_disk: false },
      optimizer_config: { deleted_threshold: 0.2, vacuum_min_vector_number: 1000, default_segment_number: 0, flush_interval_sec: 5 },
      wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
      quantization_config: request.quantization_config ?? null,
    },
    payload_schema: Object.fromEntries(
      Object.entries(collection.payloadSchema).map(([field, schema]) => [field, { ...schema, points: 0 }]),
    ),
  };
}

function createFieldIndex(collection: Collection, body: Record<string, unknown>): unknown {
  if (typeof body.field_name !== 'string' || body.field_name.length === 0) {
    throw formatError('field_name: expected a non-empty string');
  }
  const schema = body.field_schema;
  if (typeof schema !== 'string' || !PAYLOAD_SCHEMA_TYPES.has(schema)) {
    throw new QdrantDoubleError(400, `Unsupported by the Qdrant double: field_schema ${JSON.stringify(schema)}`);
  }
  collection.payloadSchema[body.field_name] = { data_type: schema };
  return updateResult(collection);
}

function upsertPoints(collection: Collection, body: Record<string, unknown>): unknown {
  if (!Array.isArray(body.points)) {
    throw new QdrantDoubleError(400, 'Unsupported by the Qdrant double: only the list form {"points": [...]} of upsert is modelled');
  }
  // Everything is checked before anything is stored, as a failed request changes nothing in Qdrant.
  const parsed = body.points.map((raw: unknown, index: number) => parsePoint(collection, raw, index));
  collection.operationId += 1;
  for (const point of parsed) {
    collection.points.set(idKey(point.id), { ...point, version: collection.operationId });
  }
  return { operation_id: collection.operationId, status: 'completed' };
}

function parsePoint(collection: Collection, raw: unknown, index: number): Omit<StoredPoint, 'version'> {
  if (typeof raw !== 'object' || raw === null) {
    throw formatError(`points[${index}]: expected an object`);
  }
  const record = raw as Record<string, unknown>;
  const id = parsePointId(record.id, `points[${index}].id`);
  const vector = parseVector(collection, record.vector, `points[${index}].vector`);
  const payload = record.payload ?? {};
  if (typeof payload !== 'object' || Array.isArray(payload)) {
    throw formatError(`points[${index}].payload: expected a JSON object`);
  }
  return { id, vector: collection.distance === 'Cosine' ? normalize(vector) : vector, payload: payload as Record<string, unknown> };
}

/** Accepts what Qdrant's ExtendedPointId accepts: an unsigned integer or a UUID string. */
function parsePointId(raw: unknown, location: string): PointId {
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) {
    return raw;
  }
  if (typeof raw === 'string' && UUID_PATTERN.test(raw)) {
    const hex = raw.replace(/-/g, '').toLowerCase();
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  throw formatError(`${location}: data did not match any variant of untagged enum ExtendedPointId`);
}

function parseVector(collection: Collection, raw: unknown, location: string): number[] {
  if (!Array.isArray(raw) || !raw.every((value) => typeof value === 'number')) {
    throw new QdrantDoubleError(400, `Unsupported by the Qdrant double: ${location} must be a dense vector (list of numbers)`);
  }
  if (raw.length !== collection.size) {
    throw new QdrantDoubleError(400, `Wrong input: Vector dimension error: expected dim: ${collection.size}, got ${raw.length}`);
  }
  return raw.map((value) => Math.fround(value));
}

/** Scales to unit length in float32, leaving a zero vector unchanged as Qdrant does. */
function normalize(vector: number[]): number[] {
  const squares = vector.reduce((sum, value) => sum + value * value, 0);
  if (squares < 1.1920929e-7) {
    return vector;
  }
  const length = Math.sqrt(squares);
  return vector.map((value) => Math.fround(value / length));
}

function deletePoints(collection: Collection, body: Record<string, unknown>): unknown {
  if (Array.isArray(body.points)) {
    const ids = body.points.map((raw: unknown, index: number) => parsePointId(raw, `points[${index}]`));
    for (const id of ids) {
      collection.points.delete(idKey(id));
    }
  } else if ('filter' in body) {
    const filter = parseFilter(body.filter);
    for (const [key, point] of collection.points) {
      if (matchesFilter(filter, point.payload)) {
        collection.points.delete(key);
      }
    }
  } else {
    throw formatError('data did not match any variant of untagged enum PointsSelector');
  }
  return updateResult(collection);
}

function countPoints(collection: Collection, body: Record<string, unknown>): unknown {
  const filter = parseFilter(body.filter);
  return { count: matchingPoints(collection, filter).length };
}

function queryPoints(collection: Collection, body: Record<string, unknown>): unknown {
  const query = readQueryVector(collection, body.query);
  const filter = parseFilter(body.filter);
  const limit = readUnsigned(body.limit, 'limit', 10, 1);
  const offset = readUnsigned(body.offset, 'offset', 0, 0);
  const threshold = body.score_threshold;
  if (threshold !== undefined && threshold !== null && typeof threshold !== 'number') {
    throw formatError('score_threshold: expected a number');
  }
  if (collection.distance !== 'Cosine' && collection.distance !== 'Dot') {
    throw new QdrantDoubleError(400, `Unsupported by the Qdrant double: query on a ${collection.distance} collection`);
  }
  const normalizedQuery = collection.distance === 'Cosine' ? normalize(query) : query;

  const scored = matchingPoints(collection, filter)
    .map((point) => ({ point, score: Math.fround(dotProduct(point.vector, normalizedQuery)) }))
    // NOTE: assumes the threshold is inclusive. Qdrant documents it only as "better than".
    .filter((entry) => typeof threshold !== 'number' || entry.score >= threshold)
    .sort((left, right) => right.score - left.score || compareIds(left.point.id, right.point.id));

  return {
    points: scored.slice(offset, offset + limit).map(({ point, score: value }) => ({
      id: point.id,
      version: point.version,
      score: value,
      ...selectParts(point, body.with_payload ?? false, body.with_vector ?? false),
    })),
  };
}

function readQueryVector(collection: Collection, raw: unknown): number[] {
  if (raw === undefined || raw === null) {
    throw new QdrantDoubleError(400, 'Unsupported by the Qdrant double: a query without "query" (ordering by id)');
  }
  const vector = typeof raw === 'object' && !Array.isArray(raw) && 'nearest' in raw ? (raw as { nearest: unknown }).nearest : raw;
  return parseVector(collection, vector, 'query');
}

/** Returns the dot product, which is the cosine similarity for normalised Cosine vectors. */
function dotProduct(stored: number[], query: number[]): number {
  let total = 0;
  for (let index = 0; index < stored.length; index += 1) {
    total += stored[index] * query[index];
  }
  return total;
}

function scrollPoints(collection: Collection, body: Record<string, unknown>): unknown {
  if (body.order_by !== undefined && body.order_by !== null) {
    throw new QdrantDoubleError(400, 'Unsupported by the Qdrant double: order_by');
  }
  const filter = parseFilter(body.filter);
  const limit = readUnsigned(body.limit, 'limit', 10, 1);
  const offset = body.offset === undefined || body.offset === null ? null : parsePointId(body.offset, 'offset');

  const ordered = matchingPoints(collection, filter).sort((left, right) => compareIds(left.id, right.id));
  const start = offset === null ? 0 : ordered.findIndex((point) => compareIds(point.id, offset) >= 0);
  const page = start < 0 ? [] : ordered.slice(start, start + limit);
  const next = start < 0 ? undefined : ordered[start + limit];

  return {
    points: page.map((point) => ({ id: point.id, ...selectParts(point, body.with_payload ?? true, body.with_vector ?? false) })),
    next_page_offset: next ? next.id : null,
  };
}

function matchingPoints(collection: Collection, filter: ParsedFilter | null): StoredPoint[] {
  return [...collection.points.values()].filter((point) => matchesFilter(filter, point.payload));
}

/** Selects payload and vector as `with_payload` and `with_vector` request. Lists of names are not modelled. */
function selectParts(point: StoredPoint, withPayload: unknown, withVector: unknown): Record<string, unknown> {
  if (typeof withPayload !== 'boolean' || typeof withVector !== 'boolean') {
    throw new QdrantDoubleError(400, 'Unsupported by the Qdrant double: with_payload and with_vector other than true or false');
  }
  return { payload: withPayload ? point.payload : null, vector: withVector ? point.vector : null };
}

function readUnsigned(raw: unknown, field: string, fallback: number, minimum: number): number {
  if (raw === undefined || raw === null) {
    return fallback;
  }
  if (!Number.isSafeInteger(raw) || (raw as number) < 0) {
    throw formatError(`${field}: invalid value ${JSON.stringify(raw)}, expected an unsigned integer`);
  }
  if ((raw as number) < minimum) {
    throw new QdrantDoubleError(400, `Validation error in JSON body: [${field}: value ${String(raw)} invalid, must be ${minimum} or more]`);
  }
  return raw as number;
}

/** Orders as Qdrant's scroll does: integer ids first by value, then UUIDs by their 128-bit value. */
function compareIds(left: PointId, right: PointId): number {
  if (typeof left === 'number' && typeof right === 'number') {
    return left - right;
  }
  if (typeof left === 'number') {
    return -1;
  }
  if (typeof right === 'number') {
    return 1;
  }
  // Lowercase hyphenated UUIDs sort as their numeric value.
  if (left === right) {
    return 0;
  }
  return left < right ? -1 : 1;
}

function idKey(id: PointId): string {
  return typeof id === 'number' ? `n:${id}` : `u:${id}`;
}

function updateResult(collection: Collection): unknown {
  collection.operationId += 1;
  return { operation_id: collection.operationId, status: 'completed' };
}

function hasValidApiKey(headers: IncomingHttpHeaders, apiKey: string): boolean {
  return headers['api-key'] === apiKey || headers.authorization === `Bearer ${apiKey}`;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, statusCode: number, body: unknown): void {
  response.writeHead(statusCode, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function elapsedSeconds(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}
