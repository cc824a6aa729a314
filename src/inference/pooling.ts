import { PoolingMode } from 'src/inference/model-files';

/**
 * Pools token vectors into one vector per input, as sentence-transformers' Pooling module
 * does. `hidden` is row-major `[batch, sequence, size]`; `mask` is `[batch, sequence]` with 1
 * for real tokens and 0 for padding.
 */
export function poolTokens(
  hidden: Float32Array,
  mask: ArrayLike<number | bigint>,
  shape: { batch: number; sequence: number; size: number },
  mode: PoolingMode,
): Float32Array[] {
  const { batch, sequence, size } = shape;
  const pooled: Float32Array[] = [];

  for (let row = 0; row < batch; row++) {
    const out = new Float32Array(size);
    const rowStart = row * sequence * size;
    const real = (position: number) => Number(mask[row * sequence + position]) !== 0;

    if (mode === 'cls') {
      out.set(hidden.subarray(rowStart, rowStart + size));
    } else if (mode === 'lasttoken') {
      let last = 0;
      for (let position = 0; position < sequence; position++) if (real(position)) last = position;
      out.set(hidden.subarray(rowStart + last * size, rowStart + (last + 1) * size));
    } else if (mode === 'max') {
      out.fill(-Infinity);
      for (let position = 0; position < sequence; position++) {
        if (!real(position)) continue;
        const offset = rowStart + position * size;
        for (let i = 0; i < size; i++) if (hidden[offset + i] > out[i]) out[i] = hidden[offset + i];
      }
      // An input of padding only (never produced by the tokenizer) would leave -Infinity.
      for (let i = 0; i < size; i++) if (out[i] === -Infinity) out[i] = 0;
    } else {
      let count = 0;
      for (let position = 0; position < sequence; position++) {
        if (!real(position)) continue;
        count++;
        const offset = rowStart + position * size;
        for (let i = 0; i < size; i++) out[i] += hidden[offset + i];
      }
      const divisor = mode === 'mean' ? Math.max(count, 1) : Math.sqrt(Math.max(count, 1));
      for (let i = 0; i < size; i++) out[i] /= divisor;
    }
    pooled.push(out);
  }
  return pooled;
}

/** Scales a vector to unit L2 length in place; a zero vector stays zero. */
export function normalizeL2(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] /= norm;
  return vector;
}
