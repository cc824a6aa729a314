import { PreparedInput, estimateTokens, planBatches, truncateToTokens } from 'src/embedders/providers/token-budget';

function input(index: number, estimatedTokens: number): PreparedInput {
  return { index, text: `text ${index}`, estimatedTokens };
}

describe('estimateTokens', () => {
  it('counts UTF-8 bytes divided by three, rounded up', () => {
    expect(estimateTokens('a')).toBe(1);
    expect(estimateTokens('abcdef')).toBe(2);
    expect(estimateTokens('abcdefg')).toBe(3);
    // "é" is 2 bytes and "日" is 3 bytes in UTF-8.
    expect(estimateTokens('ééé')).toBe(2);
    expect(estimateTokens('日本語')).toBe(3);
  });
});

describe('truncateToTokens', () => {
  it('keeps the start with end', () => {
    expect(truncateToTokens('abcdefghij', 2, 'end')).toBe('abcdef');
  });

  it('keeps the end with start', () => {
    expect(truncateToTokens('abcdefghij', 2, 'start')).toBe('efghij');
  });

  it('never splits a code point', () => {
    // Each emoji is 4 bytes, so a budget of 9 bytes fits two.
    expect(truncateToTokens('😀😁😂😃', 3, 'end')).toBe('😀😁');
    expect(truncateToTokens('😀😁😂😃', 3, 'start')).toBe('😂😃');
    expect(truncateToTokens('日本語テキスト', 2, 'end')).toBe('日本');
  });

  it('returns short text unchanged', () => {
    expect(truncateToTokens('abc', 5, 'end')).toBe('abc');
  });
});

describe('planBatches', () => {
  it('splits by count', () => {
    const batches = planBatches([0, 1, 2, 3, 4].map((index) => input(index, 1)), 2, Infinity);

    expect(batches.map((batch) => batch.map((item) => item.index))).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('splits by tokens', () => {
    const batches = planBatches([input(0, 60), input(1, 50), input(2, 10), input(3, 100)], 10, 100);

    expect(batches.map((batch) => batch.map((item) => item.index))).toEqual([[0], [1, 2], [3]]);
  });
});
