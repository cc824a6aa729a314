/**
 * Formats an error with the message or code of its cause, such as `fetch failed (connect
 * ECONNREFUSED 127.0.0.1:8080)`. Errors from fetch come from another realm under Jest,
 * so this reads fields instead of using instanceof Error.
 */
export function describeFetchError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { message, cause } = error as { message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const text = typeof message === 'string' && message !== '' ? message : String(error);
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const causeMessage = typeof cause?.message === 'string' && cause.message !== '' ? cause.message : undefined;
  const detail = causeMessage ?? code;
  if (detail === undefined || text.includes(detail)) return text;
  return code && !detail.includes(code) ? `${text} (${code}: ${detail})` : `${text} (${detail})`;
}
