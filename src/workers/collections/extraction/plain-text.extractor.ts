import { ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import { decodeText } from 'src/workers/collections/extraction/text-decoding';

/** Extracts plain text (also used for CSV): decodes the bytes and keeps the text as one part. */
export function extractPlainText(data: Buffer, declaredCharset?: string): ExtractorResult {
  const { text, encoding } = decodeText(data, declaredCharset);
  return { parts: [{ text, metadata: {} }], metadata: { encoding } };
}
