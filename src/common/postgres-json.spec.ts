import { hasUnsafeText, toPostgresJson, toPostgresText } from 'src/common/postgres-json';

describe(toPostgresJson.name, () => {
  it('drops NUL and replaces lone surrogates', () => {
    expect(toPostgresText('abc\u0000def')).toBe('abcdef');
    expect(toPostgresText('cut \ud83d')).toBe('cut \ufffd');
    expect(toPostgresText('\ude00 tail')).toBe('\ufffd tail');
  });

  it('keeps paired surrogates', () => {
    expect(toPostgresText('smile 😀')).toBe('smile 😀');
  });

  it('cleans nested keys and values', () => {
    expect(toPostgresJson({ title: 'a\u0000b', list: ['x\ud800'], 'k\u0000': 1, when: null })).toEqual({
      title: 'ab',
      list: ['x\ufffd'],
      k: 1,
      when: null,
    });
  });

  it('detects unsafe text', () => {
    expect(hasUnsafeText('fine')).toBe(false);
    expect(hasUnsafeText('a\u0000')).toBe(true);
    expect(hasUnsafeText('\ud800')).toBe(true);
    expect(hasUnsafeText('fine')).toBe(false);
  });
});
