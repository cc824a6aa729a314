import { normalizeL2, poolTokens } from 'src/inference/pooling';

// Two inputs of three positions with two values each; the second input has one padded position.
const hidden = new Float32Array([1, 2, 3, 4, 5, 6, /* row 2 */ -1, 0, 7, 2, 100, 100]);
const mask = [1, 1, 1, 1, 1, 0];
const shape = { batch: 2, sequence: 3, size: 2 };

describe('poolTokens', () => {
  it('takes the first token for cls', () => {
    const [first, second] = poolTokens(hidden, mask, shape, 'cls');
    expect(Array.from(first)).toEqual([1, 2]);
    expect(Array.from(second)).toEqual([-1, 0]);
  });

  it('averages real tokens only for mean', () => {
    const [first, second] = poolTokens(hidden, mask, shape, 'mean');
    expect(Array.from(first)).toEqual([3, 4]);
    expect(Array.from(second)).toEqual([3, 1]);
  });

  it('ignores padding for max', () => {
    const [, second] = poolTokens(hidden, mask, shape, 'max');
    expect(Array.from(second)).toEqual([7, 2]);
  });

  it('divides by the square root of the length for mean_sqrt_len', () => {
    const [, second] = poolTokens(hidden, mask, shape, 'mean_sqrt_len');
    expect(second[0]).toBeCloseTo(6 / Math.SQRT2, 5);
    expect(second[1]).toBeCloseTo(2 / Math.SQRT2, 5);
  });

  it('takes the last real token for lasttoken', () => {
    const [first, second] = poolTokens(hidden, mask, shape, 'lasttoken');
    expect(Array.from(first)).toEqual([5, 6]);
    expect(Array.from(second)).toEqual([7, 2]);
  });

  it('accepts a bigint mask as ONNX Runtime feeds it', () => {
    const [, second] = poolTokens(hidden, BigInt64Array.from(mask.map(BigInt)), shape, 'mean');
    expect(Array.from(second)).toEqual([3, 1]);
  });
});

describe('normalizeL2', () => {
  it('scales to unit length', () => {
    expect(Array.from(normalizeL2(new Float32Array([3, 4])))).toEqual([0.6000000238418579, 0.800000011920929]);
  });

  it('leaves a zero vector alone', () => {
    expect(Array.from(normalizeL2(new Float32Array([0, 0])))).toEqual([0, 0]);
  });
});
