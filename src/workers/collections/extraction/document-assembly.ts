import { ExtractorResult, TextSegment } from 'src/workers/collections/extraction/extraction.types';
import { normalizeText } from 'src/workers/collections/extraction/text-normalization';

const PART_SEPARATOR = '\n\n';

export interface AssembledText {
  text: string;
  segments: TextSegment[];
}

/**
 * Normalises each part, drops the empty ones and joins the rest with a blank line.
 * Segment offsets are computed on the joined, normalised text, so they stay exact.
 * Parts without metadata contribute text but no segment.
 */
export function assembleText(result: ExtractorResult): AssembledText {
  const pieces: string[] = [];
  const segments: TextSegment[] = [];
  let offset = 0;

  for (const part of result.parts) {
    const text = normalizeText(part.text, { preserveSpacing: result.preserveSpacing });
    if (text.trim() === '') {
      continue;
    }

    if (pieces.length > 0) {
      offset += PART_SEPARATOR.length;
    }
    if (Object.keys(part.metadata).length > 0) {
      segments.push({ start: offset, end: offset + text.length, metadata: part.metadata });
    }
    pieces.push(text);
    offset += text.length;
  }

  return { text: pieces.join(PART_SEPARATOR), segments };
}
