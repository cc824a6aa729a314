/**
 * Makes a value safe for a Postgres `jsonb` column, which rejects the NUL character and
 * unpaired UTF-16 surrogates that extracted documents can carry (PDF metadata, a heading cut in
 * the middle of an emoji). NUL is dropped and a lone surrogate becomes U+FFFD.
 */
export function toPostgresJson<T>(value: T): T {
  return clean(value) as T;
}

// Matches NUL, a high surrogate not followed by a low one, or a low surrogate without a high one.
const UNSAFE_JSON_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function toPostgresText(text: string): string {
  return text.replace(UNSAFE_JSON_TEXT, (match) => (match === '\u0000' ? '' : '\ufffd'));
}

export function hasUnsafeText(text: string): boolean {
  UNSAFE_JSON_TEXT.lastIndex = 0;
  const found = UNSAFE_JSON_TEXT.test(text);
  UNSAFE_JSON_TEXT.lastIndex = 0;
  return found;
}

function clean(value: unknown): unknown {
  if (typeof value === 'string') return toPostgresText(value);
  if (Array.isArray(value)) return value.map(clean);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [toPostgresText(key), clean(entry)]));
  }
  return value;
}
