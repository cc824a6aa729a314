import { validate as isUuid } from 'uuid';
import { InvalidInputError } from 'src/common/app-error';
import { FieldCondition, PayloadFilter, SearchOptions, VectorPoint } from 'src/platform/vectors/vector-store';

// Checks shared by every VectorStore adapter, so that they reject the same input.

/** Qdrant's maximum vector size, applied to every adapter so collections stay portable. */
export const MAX_VECTOR_DIMENSIONS = 65_536;
export const MAX_SEARCH_LIMIT = 10_000;

const COLLECTION_NAME_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,254}$/;

export function assertValidCollectionName(name: string): void {
  if (typeof name !== 'string' || !COLLECTION_NAME_PATTERN.test(name)) {
    throw new InvalidInputError(
      'invalid_vector_collection_name',
      `Invalid vector collection name ${JSON.stringify(name)}: use 1 to 255 letters, digits, "_", "-" or ".", not starting with ".".`,
      { collection: name },
    );
  }
}

export function assertValidDimensions(dimensions: number): void {
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > MAX_VECTOR_DIMENSIONS) {
    throw new InvalidInputError(
      'invalid_vector_dimensions',
      `Invalid vector dimensions ${String(dimensions)}: expected an integer from 1 to ${MAX_VECTOR_DIMENSIONS}.`,
      { dimensions },
    );
  }
}

/** Returns the id in lowercase, the form that Postgres and Qdrant return. */
export function normalizePointId(id: string): string {
  if (typeof id !== 'string' || !isUuid(id)) {
    throw new InvalidInputError('invalid_vector_point_id', `Invalid point id ${JSON.stringify(id)}: expected a UUID.`, {
      id,
    });
  }
  return id.toLowerCase();
}

/** Throws `vector_length_mismatch` or `invalid_vector` unless `vector` has `dimensions` finite numbers. */
export function assertValidVector(vector: number[], dimensions: number, context: string): void {
  if (!Array.isArray(vector) || vector.length !== dimensions) {
    const actual = Array.isArray(vector) ? `${vector.length} values` : typeof vector;
    throw new InvalidInputError(
      'vector_length_mismatch',
      `${context} has ${actual}, but the collection expects ${dimensions} dimensions.`,
      { expected: dimensions, actual: Array.isArray(vector) ? vector.length : null },
    );
  }
  for (let index = 0; index < vector.length; index += 1) {
    const value = vector[index];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new InvalidInputError(
        'invalid_vector',
        `${context} has ${String(value)} at index ${index}; every value must be a finite number.`,
        { index },
      );
    }
  }
}

/**
 * Returns the payload as JSON text. Throws `invalid_vector_payload` for a payload that is
 * not a plain object or cannot be stored as JSON (cycles, BigInt, NUL characters,
 * which Postgres jsonb rejects).
 */
export function serializePayload(payload: Record<string, unknown>, pointId: string): string {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new InvalidInputError('invalid_vector_payload', `Payload of point ${pointId} must be a JSON object.`, {
      id: pointId,
    });
  }
  let json: string;
  try {
    json = JSON.stringify(payload);
  } catch (error) {
    throw new InvalidInputError(
      'invalid_vector_payload',
      `Payload of point ${pointId} cannot be converted to JSON: ${error instanceof Error ? error.message : String(error)}.`,
      { id: pointId },
      { cause: error },
    );
  }
  if (json.includes('\\u0000')) {
    throw new InvalidInputError(
      'invalid_vector_payload',
      `Payload of point ${pointId} contains a NUL character (\\u0000), which cannot be stored.`,
      { id: pointId },
    );
  }
  return json;
}

/**
 * Validates all points against the collection's dimensions before anything is written
 * and returns them with lowercase ids and serialised payloads. A repeated id keeps its
 * last occurrence.
 */
export function preparePoints(
  points: VectorPoint[],
  dimensions: number,
): Array<{ id: string; vector: number[]; payloadJson: string }> {
  if (!Array.isArray(points)) {
    throw new InvalidInputError('invalid_vector_points', 'Points must be an array.');
  }
  const byId = new Map<string, { id: string; vector: number[]; payloadJson: string }>();
  for (const point of points) {
    const id = normalizePointId(point?.id);
    assertValidVector(point.vector, dimensions, `Vector of point ${id}`);
    const payloadJson = serializePayload(point.payload ?? {}, id);
    byId.delete(id);
    byId.set(id, { id, vector: point.vector, payloadJson });
  }
  return [...byId.values()];
}

/** Throws `invalid_vector_filter` unless `filter` is a supported Qdrant-shaped filter. */
export function assertValidFilter(filter: PayloadFilter): void {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw invalidFilter('the filter must be an object with "must" and/or "must_not" lists');
  }
  for (const clause of Object.keys(filter)) {
    if (clause !== 'must' && clause !== 'must_not') {
      throw invalidFilter(`unsupported clause "${clause}"; only "must" and "must_not" are supported`);
    }
  }
  for (const clause of ['must', 'must_not'] as const) {
    const conditions = filter[clause];
    if (conditions === undefined) {
      continue;
    }
    if (!Array.isArray(conditions)) {
      throw invalidFilter(`"${clause}" must be a list of conditions`);
    }
    conditions.forEach((condition, index) => assertValidCondition(condition, `${clause}[${index}]`));
  }
}

export function filterHasConditions(filter: PayloadFilter | undefined): boolean {
  return (filter?.must?.length ?? 0) + (filter?.must_not?.length ?? 0) > 0;
}

export function assertValidSearchOptions(options: SearchOptions): void {
  const limit = options?.limit;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) {
    throw new InvalidInputError(
      'invalid_search_limit',
      `Invalid search limit ${String(limit)}: expected an integer from 1 to ${MAX_SEARCH_LIMIT}.`,
      { limit },
    );
  }
  const threshold = options.scoreThreshold;
  if (threshold !== undefined && (typeof threshold !== 'number' || !Number.isFinite(threshold))) {
    throw new InvalidInputError(
      'invalid_score_threshold',
      `Invalid score threshold ${String(threshold)}: expected a finite number.`,
      { scoreThreshold: threshold },
    );
  }
  if (options.filter !== undefined) {
    assertValidFilter(options.filter);
  }
}

function assertValidCondition(condition: FieldCondition, path: string): void {
  if (typeof condition !== 'object' || condition === null) {
    throw invalidFilter(`${path} must be an object with "key" and "match"`);
  }
  const { key, match } = condition;
  // Qdrant reads a key as a JSON path: "." and "[]" lead into nested objects, and a quoted
  // segment cannot hold '"' or '\\'. Every adapter rejects them, so a filter means the same
  // field on Postgres and on Qdrant.
  if (typeof key !== 'string' || key.length === 0 || /[.[\]"\\]/.test(key)) {
    throw invalidFilter(
      `${path}.key ${JSON.stringify(key)} must be a non-empty top-level field name without ".", "[", "]", '"' or "\\"`,
    );
  }
  if (typeof match !== 'object' || match === null) {
    throw invalidFilter(`${path}.match must be {"value": ...} or {"any": [...]}`);
  }
  if ('value' in match) {
    const { value } = match;
    const valid = typeof value === 'string' || typeof value === 'boolean' || Number.isSafeInteger(value);
    if (!valid) {
      throw invalidFilter(`${path}.match.value ${JSON.stringify(value)} must be a string, an integer or a boolean`);
    }
    return;
  }
  if ('any' in match) {
    const values: unknown = match.any;
    const allStrings = Array.isArray(values) && values.every((value) => typeof value === 'string');
    const allIntegers = Array.isArray(values) && values.every((value) => Number.isSafeInteger(value));
    if (!allStrings && !allIntegers) {
      throw invalidFilter(`${path}.match.any must be a list of strings or a list of integers`);
    }
    return;
  }
  throw invalidFilter(`${path}.match must be {"value": ...} or {"any": [...]}`);
}

function invalidFilter(problem: string): InvalidInputError {
  return new InvalidInputError('invalid_vector_filter', `Invalid payload filter: ${problem}.`);
}
