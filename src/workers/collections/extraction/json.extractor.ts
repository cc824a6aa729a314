import { InvalidInputError } from 'src/common/app-error';
import { ExtractedPart, ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import { decodeText } from 'src/workers/collections/extraction/text-decoding';

// Deeper levels keep the path of this depth followed by an ellipsis, so that pathological
// nesting cannot make each line as long as the document.
const MAX_PATH_DEPTH = 32;

// Invalid NDJSON lines listed by number in the metadata; the rest are only counted.
const MAX_LISTED_INVALID_LINES = 20;

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/**
 * Extracts a JSON document as `path: value` lines, such as `user.name: Ada` or
 * `entities.urls[0].url: https://…`. Each element of a top-level array is one part, and so is
 * each element of an array of objects or arrays under a top-level key (`statuses[3]`). Such
 * parts carry their `json_path`. Null values, empty strings and empty objects and arrays are
 * left out. Throws `json_invalid` for a syntax error.
 * NOTE: numbers beyond 2^53, such as 64-bit ids, lose precision in `JSON.parse`, so their
 * string twins (`id_str` in the Twitter API) are the exact values.
 */
export function extractJson(data: Buffer, fileName: string, declaredCharset?: string): ExtractorResult {
  const { text, encoding } = decodeText(data, declaredCharset);
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidInputError(
      'json_invalid',
      `JSON file "${fileName}" is not valid JSON (${reason}). Fix the syntax, or upload one record per line as an .ndjson file.`,
      { file_name: fileName, reason },
      { cause: error },
    );
  }

  const parts = recordParts(root);
  const title = isPlainObject(root) && typeof root.title === 'string' ? root.title : undefined;
  return {
    parts,
    ...(title ? { title } : {}),
    metadata: { encoding, record_count: parts.filter((part) => part.metadata.json_path !== undefined).length },
  };
}

/**
 * Extracts newline-delimited JSON (NDJSON, JSON Lines): each line is one record and one part
 * with its 1-based `line`. Lines that are not valid JSON are skipped and reported in
 * `invalid_line_count` and `invalid_lines`. When the first record is an array of strings and
 * the next ones are arrays of the same length, it is a header row, like the first row of a
 * CSV file, and names the values of the other rows. Throws `ndjson_invalid` when no line is
 * valid JSON.
 */
export function extractNdjson(data: Buffer, fileName: string, declaredCharset?: string): ExtractorResult {
  const { text, encoding } = decodeText(data, declaredCharset);
  const records: { line: number; value: unknown }[] = [];
  const invalidLines: number[] = [];
  let invalidLineCount = 0;

  text.split(/\r\n?|\n/).forEach((line, index) => {
    if (line.trim() === '') {
      return;
    }
    try {
      records.push({ line: index + 1, value: JSON.parse(line) });
    } catch {
      invalidLineCount += 1;
      if (invalidLines.length < MAX_LISTED_INVALID_LINES) {
        invalidLines.push(index + 1);
      }
    }
  });

  if (records.length === 0 && invalidLineCount > 0) {
    throw new InvalidInputError(
      'ndjson_invalid',
      `NDJSON file "${fileName}" has no line that is valid JSON (first invalid lines: ${invalidLines.join(', ')}). Put one JSON value on each line.`,
      { file_name: fileName, invalid_line_count: invalidLineCount, invalid_lines: invalidLines },
    );
  }

  const header = headerRow(records.map((record) => record.value));
  const rows = header ? records.slice(1) : records;
  const parts: ExtractedPart[] = rows.map(({ line, value }) => ({
    text: flattenToLines(header && Array.isArray(value) ? namedRow(header, value) : value).join('\n'),
    metadata: { line },
  }));

  const metadata: Record<string, unknown> = { encoding, record_count: rows.length, invalid_line_count: invalidLineCount };
  if (invalidLines.length > 0) {
    metadata.invalid_lines = invalidLines;
  }
  if (header) {
    metadata.header_row = header;
  }
  return { parts, metadata };
}

function recordParts(root: unknown): ExtractedPart[] {
  if (Array.isArray(root)) {
    return root.map((element, index) => ({
      text: flattenToLines(element, `[${index}]`).join('\n'),
      metadata: { json_path: `[${index}]` },
    }));
  }
  if (!isPlainObject(root)) {
    return [{ text: flattenToLines(root).join('\n'), metadata: {} }];
  }

  // Keys that are not record arrays are gathered into one part until the next record array.
  const parts: ExtractedPart[] = [];
  let gathered: string[] = [];
  const flushGathered = (): void => {
    if (gathered.length > 0) {
      parts.push({ text: gathered.join('\n'), metadata: {} });
      gathered = [];
    }
  };

  for (const [key, value] of Object.entries(root)) {
    const keyPath = appendKey('', key);
    if (Array.isArray(value) && value.length > 0 && value.every((element) => typeof element === 'object' && element !== null)) {
      flushGathered();
      value.forEach((element, index) => {
        const path = `${keyPath}[${index}]`;
        parts.push({ text: flattenToLines(element, path).join('\n'), metadata: { json_path: path } });
      });
    } else {
      gathered.push(...flattenToLines(value, keyPath));
    }
  }
  flushGathered();
  return parts;
}

/**
 * Flattens a JSON value into `path: value` lines in document order, iteratively so that deep
 * nesting cannot overflow the call stack. A scalar at the empty path is written alone.
 */
export function flattenToLines(value: unknown, basePath = ''): string[] {
  const lines: string[] = [];
  const stack: { path: string; value: unknown; depth: number }[] = [{ path: basePath, value, depth: 0 }];

  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item.value === null || item.value === undefined || item.value === '') {
      continue;
    }
    if (typeof item.value !== 'object') {
      const scalar = String(item.value).replace(/\s*[\r\n]+\s*/g, ' ');
      lines.push(item.path === '' ? scalar : `${item.path}: ${scalar}`);
      continue;
    }

    const isArray = Array.isArray(item.value);
    const entries: [string, unknown][] = isArray ? (item.value as unknown[]).map((element, index) => [String(index), element]) : Object.entries(item.value);
    // Pushed in reverse so that they pop in document order.
    for (let index = entries.length - 1; index >= 0; index -= 1) {
      const [key, child] = entries[index];
      stack.push({ path: childPath(item.path, key, isArray, item.depth), value: child, depth: item.depth + 1 });
    }
  }
  return lines;
}

function childPath(parent: string, key: string, isIndex: boolean, depth: number): string {
  if (depth >= MAX_PATH_DEPTH) {
    return parent.endsWith('…') ? parent : `${parent}.…`;
  }
  return isIndex ? `${parent}[${key}]` : appendKey(parent, key);
}

function appendKey(parent: string, key: string): string {
  if (!PLAIN_KEY.test(key)) {
    return `${parent}[${JSON.stringify(key)}]`;
  }
  return parent === '' ? key : `${parent}.${key}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function headerRow(values: unknown[]): string[] | undefined {
  const [first, ...rest] = values;
  if (!Array.isArray(first) || first.length === 0 || !first.every((cell) => typeof cell === 'string' && cell !== '')) {
    return undefined;
  }
  const sample = rest.slice(0, 20);
  const sameWidth = sample.length > 0 && sample.every((row) => Array.isArray(row) && row.length === first.length);
  return sameWidth ? (first as string[]) : undefined;
}

function namedRow(header: string[], row: unknown[]): Record<string, unknown> {
  const named: Record<string, unknown> = {};
  row.forEach((cell, index) => {
    named[header[index] ?? `column ${index + 1}`] = cell;
  });
  return named;
}
