import { Span, packAtoms, safeCut, splitsSurrogatePair } from 'src/workers/collections/chunking/chunk-packing';
import { SegmentIndex } from 'src/workers/collections/chunking/chunk-metadata';
import {
  ChunkingConfig,
  DEFAULT_SEPARATORS,
  validateChunkingConfig,
} from 'src/workers/collections/chunking/chunking-config';
import { splitRecursively, splitSentences } from 'src/workers/collections/chunking/text-atoms';
import { TextSegment } from 'src/workers/collections/extraction/extraction.types';

export {
  CHUNKING_STRATEGIES,
  DEFAULT_CHUNKING_CONFIG,
  DEFAULT_SEPARATORS,
  validateChunkingConfig,
} from 'src/workers/collections/chunking/chunking-config';
export type { ChunkingConfig, ChunkingStrategy } from 'src/workers/collections/chunking/chunking-config';

export interface TextChunk {
  /** Always `input.slice(start, end)`. */
  text: string;
  /** Offset of the first character in the input text (UTF-16 code units). */
  start: number;
  /** Offset after the last character in the input text. */
  end: number;
  /** `chunk_index`, `char_start`, `char_end`, and `page`, `pages`, `heading_path` from segments. */
  metadata: Record<string, unknown>;
}

const WHITESPACE = /\s/;

/**
 * Splits text into chunks of at most `config.chunk_size` characters. Chunks are slices of
 * `text` without leading or trailing whitespace, in increasing order, and together they
 * cover every non-whitespace character. Consecutive chunks share at most `chunk_overlap`
 * characters. Throws `invalid_chunking_config` for a bad `config`.
 */
export function chunkText(text: string, config: ChunkingConfig, segments: TextSegment[] = []): TextChunk[] {
  const valid = validateChunkingConfig(config);
  const spans = trimSpans(text, splitIntoSpans(text, valid));

  const segmentIndex = new SegmentIndex(segments);
  return spans.map(([start, end], index) => ({
    text: text.slice(start, end),
    start,
    end,
    metadata: {
      chunk_index: index,
      char_start: start,
      char_end: end,
      ...segmentIndex.metadataFor(start, end),
    },
  }));
}

function splitIntoSpans(text: string, config: ChunkingConfig): Span[] {
  const { chunk_size: size, chunk_overlap: overlap } = config;
  const separators = config.separators ?? DEFAULT_SEPARATORS;
  if (text.length === 0) {
    return [];
  }

  switch (config.strategy) {
    case 'fixed_size':
      return fixedSizeSpans(text, size, overlap);
    case 'sentence':
      return packAtoms(text, splitSentences(text, separators, size), size, overlap);
    case 'recursive_character':
      return packAtoms(text, splitRecursively(text, 0, text.length, separators, size), size, overlap);
  }
}

/** Returns windows of `size` characters that start `size - overlap` characters apart. */
function fixedSizeSpans(text: string, size: number, overlap: number): Span[] {
  const spans: Span[] = [];
  let start = 0;
  while (start < text.length) {
    const end = safeCut(text, start + size, start + 1);
    spans.push([start, end]);
    if (end >= text.length) {
      break;
    }
    start = Math.max(start + 1, end - overlap);
    // With a chunk size of 1 a surrogate pair cannot be kept together, so both halves stay.
    if (size > 1 && splitsSurrogatePair(text, start)) {
      start += 1;
    }
  }
  return spans;
}

/**
 * Removes leading and trailing whitespace from each span by moving its offsets, then drops
 * spans that are empty or that end inside the previous span. When a span starts where the
 * previous one starts, it contains that one and replaces it.
 */
function trimSpans(text: string, spans: Span[]): Span[] {
  const trimmed: Span[] = [];
  for (const [rawStart, rawEnd] of spans) {
    let start = rawStart;
    let end = rawEnd;
    while (start < end && WHITESPACE.test(text[start])) start += 1;
    while (end > start && WHITESPACE.test(text[end - 1])) end -= 1;
    if (start === end) {
      continue;
    }

    const previous = trimmed[trimmed.length - 1];
    if (previous && end <= previous[1]) {
      continue;
    }
    if (previous && start <= previous[0]) {
      trimmed[trimmed.length - 1] = [start, end];
      continue;
    }
    trimmed.push([start, end]);
  }
  return trimmed;
}
