const FLOAT32_BYTES = 4;

/**
 * Returns `vector` scaled to unit length as float64 values. A zero vector stays zero.
 * Values are divided by the largest magnitude first so that squaring cannot overflow.
 */
export function normalizeVector(vector: number[]): Float64Array {
  const result = new Float64Array(vector.length);
  let maxMagnitude = 0;
  for (const value of vector) {
    maxMagnitude = Math.max(maxMagnitude, Math.abs(value));
  }
  if (maxMagnitude === 0) {
    return result;
  }
  let sumOfSquares = 0;
  for (let index = 0; index < vector.length; index += 1) {
    const scaled = vector[index] / maxMagnitude;
    result[index] = scaled;
    sumOfSquares += scaled * scaled;
  }
  const norm = Math.sqrt(sumOfSquares);
  for (let index = 0; index < result.length; index += 1) {
    result[index] /= norm;
  }
  return result;
}

/** Encodes the unit-length form of `vector` as float32 little-endian bytes, the `vector_points.vector` format. */
export function encodeNormalizedVector(vector: number[]): Buffer {
  const normalized = normalizeVector(vector);
  const buffer = Buffer.allocUnsafe(normalized.length * FLOAT32_BYTES);
  for (let index = 0; index < normalized.length; index += 1) {
    buffer.writeFloatLE(normalized[index], index * FLOAT32_BYTES);
  }
  return buffer;
}

/**
 * Returns the dot product of a stored float32 little-endian vector and `query`. Both are
 * unit length or zero, so this is their cosine similarity, clamped to [-1, 1] against
 * float32 rounding.
 */
export function dotProductWithEncoded(encoded: Buffer, query: Float64Array): number {
  if (encoded.length !== query.length * FLOAT32_BYTES) {
    throw new Error(`Stored vector has ${encoded.length} bytes, expected ${query.length * FLOAT32_BYTES}`);
  }
  let sum = 0;
  for (let index = 0; index < query.length; index += 1) {
    sum += encoded.readFloatLE(index * FLOAT32_BYTES) * query[index];
  }
  return Math.min(1, Math.max(-1, sum));
}
