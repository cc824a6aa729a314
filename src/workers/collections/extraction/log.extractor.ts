import { ExtractedPart, ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import { decodeText } from 'src/workers/collections/extraction/text-decoding';

// Lines per part, so that each segment names a line range a reader can open.
const LINES_PER_PART = 200;

/**
 * Extracts a log file line by line: indentation and aligned columns are kept (stack traces,
 * tables), and every part of up to 200 lines carries its 1-based `line_start` and `line_end`.
 */
export function extractLog(data: Buffer, declaredCharset?: string): ExtractorResult {
  const { text, encoding } = decodeText(data, declaredCharset);
  const lines = text.split(/\r\n?|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') {
    lines.pop();
  }

  const parts: ExtractedPart[] = [];
  for (let start = 0; start < lines.length; start += LINES_PER_PART) {
    const slice = lines.slice(start, start + LINES_PER_PART);
    parts.push({ text: slice.join('\n'), metadata: { line_start: start + 1, line_end: start + slice.length } });
  }
  return { parts, metadata: { encoding, line_count: lines.length }, preserveSpacing: true };
}
