import { InvalidInputError } from 'src/common/app-error';
import { SegmentIndex } from 'src/workers/collections/chunking/chunk-metadata';
import {
  ChunkSpan,
  packAtoms,
  safeCut,
  Span,
  splitsSurrogatePair,
  toChunkSpans,
} from 'src/workers/collections/chunking/chunk-packing';
import {
  ChunkingConfig,
  DEFAULT_SEPARATORS,
  DEFAULT_SIMILARITY_THRESHOLD,
  DEFAULT_TOKEN_ENCODING,
  validateChunkingConfig,
} from 'src/workers/collections/chunking/chunking-config';
import { codeSpans } from 'src/workers/collections/chunking/code-chunking';
import { chunkMarkdown } from 'src/workers/collections/chunking/markdown-chunking';
import { EmbedTexts, semanticSpans } from 'src/workers/collections/chunking/semantic-chunking';
import { chunkTables } from 'src/workers/collections/chunking/table-blocks';
import { splitParagraphs, splitRecursively, splitSentences } from 'src/workers/collections/chunking/text-atoms';
import { tokenSpans } from 'src/workers/collections/chunking/token-chunking';
import { TextSegment } from 'src/workers/collections/extraction/extraction.types';

export {
  CHUNKING_STRATEGIES,
  CODE_LANGUAGES,
  DEFAULT_CHUNKING_CONFIG,
  DEFAULT_SEPARATORS,
  DEFAULT_SIMILARITY_THRESHOLD,
  DEFAULT_TOKEN_ENCODING,
  TOKEN_ENCODINGS,
  validateChunkingConfig,
} from 'src/workers/collections/chunking/chunking-config';
export type {
  ChunkingConfig,
  ChunkingOptions,
  ChunkingStrategy,
  CodeLanguage,
  TokenEncoding,
} from 'src/workers/collections/chunking/chunking-config';
export type { EmbedTexts } from 'src/workers/collections/chunking/semantic-chunking';

export interface TextChunk {
  /** Always `input.slice(start, end)`. */
  text: string;
  /** Offset of the first character in the input text (UTF-16 code units). */
  start: number;
  /** Offset after the last character in the input text. */
  end: number;
  /**
   * Text to show or embed before `text`, present only on a chunk that continues a table or
   * fenced code block longer than `chunk_size`: the table header rows or the opening fence
   * line, ending with a line break. `prefix + text` fits in `chunk_size`.
   */
  prefix?: string;
  /**
   * Chunk fields `chunk_index`, `char_start` and `char_end`, and the metadata of the segments
   * the chunk overlaps (see `SegmentIndex`: `page`, `pages`, `heading_path`, `sheet` ...).
   * `markdown_aware` replaces `heading_path` with the Markdown headings in force at the chunk
   * start, when there are any. `table_aware` and `markdown_aware` add `split_row: true` to
   * chunks that contain part of a table row longer than `chunk_size`.
   */
  metadata: Record<string, unknown>;
}

export interface ChunkDocumentOptions {
  /** Function that embeds sentences for `semantic`. Required by that strategy, unused by the others. */
  embed?: EmbedTexts;
  /** Sentences per `embed` call. Default 64. */
  embedBatchSize?: number;
}

export const DEFAULT_EMBED_BATCH_SIZE = 64;

const WHITESPACE = /\s/;

/** Spans of one strategy, and metadata it adds per chunk once the spans are trimmed. */
interface StrategyResult {
  spans: ChunkSpan[];
  metadataAt?: (start: number) => Record<string, unknown>;
}

/**
 * Splits text into chunks with every strategy except `semantic`, which needs an embedder:
 * use `chunkDocument` for it. Chunks are slices of `text` without leading or trailing
 * whitespace, in increasing order of `start` and `end`, and together they cover every
 * non-whitespace character. A chunk (with its `prefix`) is at most `config.chunk_size` long,
 * and consecutive chunks share at most `chunk_overlap` characters (tokens for
 * `token_based`). Throws `invalid_chunking_config` for a bad `config`, and
 * `semantic_chunking_needs_embedder` for `semantic`.
 */
export function chunkText(text: string, config: ChunkingConfig, segments: TextSegment[] = []): TextChunk[] {
  const valid = validateChunkingConfig(config);
  if (valid.strategy === 'semantic') {
    throw semanticNeedsEmbedder();
  }
  return toTextChunks(text, splitIntoSpans(text, valid), segments);
}

/**
 * Splits text into chunks like `chunkText`, and also with `semantic`, which calls
 * `options.embed` with batches of `options.embedBatchSize` sentences. Throws
 * `semantic_chunking_needs_embedder` when `semantic` gets no `embed`, and the errors of
 * `embed`, and `invalid_embedder_output` when it returns the wrong number or shape of vectors.
 */
export async function chunkDocument(
  text: string,
  config: ChunkingConfig,
  segments: TextSegment[] = [],
  options: ChunkDocumentOptions = {},
): Promise<TextChunk[]> {
  const valid = validateChunkingConfig(config);
  if (valid.strategy !== 'semantic') {
    return toTextChunks(text, splitIntoSpans(text, valid), segments);
  }
  if (!options.embed) {
    throw semanticNeedsEmbedder();
  }
  const batchSize = options.embedBatchSize ?? DEFAULT_EMBED_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new InvalidInputError('invalid_embed_batch_size', `Invalid embedBatchSize ${String(batchSize)}: expected an integer of 1 or more.`);
  }
  if (text.length === 0) {
    return [];
  }

  const spans = await semanticSpans(text, {
    size: valid.chunk_size,
    overlap: valid.chunk_overlap,
    separators: valid.separators ?? DEFAULT_SEPARATORS,
    similarityThreshold: valid.options?.similarity_threshold ?? DEFAULT_SIMILARITY_THRESHOLD,
    embed: options.embed,
    batchSize,
  });
  return toTextChunks(text, { spans: toChunkSpans(spans) }, segments);
}

function semanticNeedsEmbedder(): InvalidInputError {
  return new InvalidInputError(
    'semantic_chunking_needs_embedder',
    'Semantic chunking embeds sentences, so it needs an embed function: call chunkDocument with options.embed.',
  );
}

function toTextChunks(text: string, result: StrategyResult, segments: TextSegment[]): TextChunk[] {
  const segmentIndex = new SegmentIndex(segments);
  return trimSpans(text, result.spans).map((span, index) => {
    const { start, end } = span;
    const chunk: TextChunk = {
      text: text.slice(start, end),
      start,
      end,
      metadata: {
        ...segmentIndex.metadataFor(start, end),
        ...result.metadataAt?.(start),
        ...span.metadata,
        chunk_index: index,
        char_start: start,
        char_end: end,
      },
    };
    if (span.prefix !== undefined) {
      chunk.prefix = span.prefix;
    }
    return chunk;
  });
}

function splitIntoSpans(text: string, config: ChunkingConfig): StrategyResult {
  const { chunk_size: size, chunk_overlap: overlap, options = {} } = config;
  const separators = config.separators ?? DEFAULT_SEPARATORS;
  if (text.length === 0) {
    return { spans: [] };
  }

  switch (config.strategy) {
    case 'fixed_size':
      return { spans: toChunkSpans(fixedSizeSpans(text, size, overlap)) };
    case 'sentence':
      return { spans: toChunkSpans(packAtoms(text, splitSentences(text, separators, size), size, overlap)) };
    case 'recursive_character':
      return { spans: toChunkSpans(packAtoms(text, splitRecursively(text, 0, text.length, separators, size), size, overlap)) };
    case 'paragraph':
      return { spans: toChunkSpans(packAtoms(text, splitParagraphs(text, separators, size), size, overlap)) };
    case 'markdown_aware': {
      const { spans, metadataAt } = chunkMarkdown(text, size, overlap, separators, options.split_on_headings ?? true);
      return { spans, metadataAt };
    }
    case 'code_aware':
      return { spans: toChunkSpans(codeSpans(text, size, overlap, options.language)) };
    case 'table_aware':
      return { spans: chunkTables(text, size, overlap, separators) };
    case 'token_based':
      return { spans: toChunkSpans(tokenSpans(text, size, overlap, options.encoding ?? DEFAULT_TOKEN_ENCODING)) };
    case 'semantic':
      throw semanticNeedsEmbedder();
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
function trimSpans(text: string, spans: ChunkSpan[]): ChunkSpan[] {
  const trimmed: ChunkSpan[] = [];
  for (const span of spans) {
    let start = span.start;
    let end = span.end;
    while (start < end && WHITESPACE.test(text[start])) start += 1;
    while (end > start && WHITESPACE.test(text[end - 1])) end -= 1;
    if (start === end) {
      continue;
    }

    const previous = trimmed[trimmed.length - 1];
    if (previous && end <= previous.end) {
      continue;
    }
    if (previous && start <= previous.start) {
      trimmed[trimmed.length - 1] = { ...span, start, end };
      continue;
    }
    trimmed.push({ ...span, start, end });
  }
  return trimmed;
}
