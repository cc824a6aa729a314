import { jsonDepthExceeds } from 'src/common/json-depth.middleware';

function nested(levels: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { child: value };
  return value;
}

describe('jsonDepthExceeds', () => {
  it('accepts scalars and shallow bodies', () => {
    expect(jsonDepthExceeds('text', 2)).toBe(false);
    expect(jsonDepthExceeds({ texts: ['a', 'b'], model: 'x' }, 2)).toBe(false);
  });

  it('rejects one level past the limit', () => {
    expect(jsonDepthExceeds(nested(64), 64)).toBe(false);
    expect(jsonDepthExceeds(nested(65), 64)).toBe(true);
  });

  it('handles a body nested 100000 levels without overflowing', () => {
    expect(jsonDepthExceeds(nested(100_000), 64)).toBe(true);
  });
});
