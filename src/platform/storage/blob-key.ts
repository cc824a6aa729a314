import { InvalidInputError } from 'src/common/app-error';

/** S3's limit on the UTF-8 length of an object key, applied to every adapter so keys stay portable. */
export const MAX_BLOB_KEY_BYTES = 1024;

/**
 * Throws InvalidInputError `invalid_blob_key` unless `key` is a relative, slash-separated
 * path that maps to the same file on every adapter: no leading or trailing slash, no
 * empty, `.` or `..` segment, no backslash, no NUL and at most 1,024 UTF-8 bytes.
 */
export function assertValidBlobKey(key: string): void {
  const problem = describeKeyProblem(key, 'key');
  if (problem !== null) {
    throw new InvalidInputError('invalid_blob_key', `Invalid blob key ${JSON.stringify(key)}: ${problem}.`, { key });
  }
}

/**
 * Throws InvalidInputError `invalid_blob_prefix` unless `prefix` follows the key rules.
 * A trailing slash is allowed. The empty prefix is rejected, so a bug cannot wipe the
 * whole store.
 */
export function assertValidBlobPrefix(prefix: string): void {
  const withoutTrailingSlash = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const problem = describeKeyProblem(withoutTrailingSlash, 'prefix');
  if (problem !== null) {
    throw new InvalidInputError('invalid_blob_prefix', `Invalid blob prefix ${JSON.stringify(prefix)}: ${problem}.`, {
      prefix,
    });
  }
}

/** Throws InvalidInputError `invalid_max_bytes` unless `maxBytes` is absent or a non-negative safe integer. */
export function assertValidMaxBytes(maxBytes: number | undefined): void {
  if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
    throw new InvalidInputError(
      'invalid_max_bytes',
      `Invalid maxBytes ${String(maxBytes)}: expected a non-negative integer number of bytes.`,
      { maxBytes },
    );
  }
}

function describeKeyProblem(value: string, noun: 'key' | 'prefix'): string | null {
  if (typeof value !== 'string' || value.length === 0) {
    return `the ${noun} must not be empty`;
  }
  if (Buffer.byteLength(value, 'utf8') > MAX_BLOB_KEY_BYTES) {
    return `the ${noun} is longer than ${MAX_BLOB_KEY_BYTES} UTF-8 bytes`;
  }
  if (value.includes('\0')) {
    return `the ${noun} contains a NUL character`;
  }
  if (value.includes('\\')) {
    return `the ${noun} contains a backslash, use "/" to separate segments`;
  }
  if (value.startsWith('/')) {
    return `the ${noun} must be relative, without a leading "/"`;
  }
  if (value.endsWith('/')) {
    return noun === 'key' ? 'the key must not end with "/"' : 'the prefix must not end with "//"';
  }
  for (const segment of value.split('/')) {
    if (segment === '') {
      return `the ${noun} contains an empty segment ("//")`;
    }
    if (segment === '.' || segment === '..') {
      return `the ${noun} contains a "${segment}" segment`;
    }
  }
  return null;
}
