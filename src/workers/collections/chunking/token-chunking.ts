import { Tiktoken, TiktokenBPE } from 'js-tiktoken/lite';

import { Span } from 'src/workers/collections/chunking/chunk-packing';
import { TokenEncoding } from 'src/workers/collections/chunking/chunking-config';
import { appendAll, splitSentences, trimmedEnd } from 'src/workers/collections/chunking/text-atoms';

/** A js-tiktoken encoder and the UTF-8 length of each of its tokens. */
export interface TokenCounter {
  encode(text: string): number[];
  count(text: string): number;
  /** UTF-8 length in bytes of each token, indexed by token id. */
  byteLengths: Uint16Array;
}

const counters = new Map<TokenEncoding, TokenCounter>();

/**
 * Returns the tokenizer of `encoding`, loading it on first use (a few hundred milliseconds).
 * Special tokens such as `<|endoftext|>` in the text are counted as ordinary text.
 */
export function tokenCounter(encoding: TokenEncoding): TokenCounter {
  let counter = counters.get(encoding);
  if (!counter) {
    const ranks = loadRanks(encoding);
    const tokenizer = new Tiktoken(ranks);
    const encode = boundedEncoder(tokenizer, ranks.pat_str);
    counter = { encode, count: (text) => encode(text).length, byteLengths: tokenByteLengths(ranks) };
    counters.set(encoding, counter);
  }
  return counter;
}

// Maximum length of a pre-tokenizer piece that is encoded whole. js-tiktoken 1.0.21 merges
// byte pairs in time quadratic in the piece length. 16,000 "=" signs, which its pattern keeps
// as one piece, took 20 s to encode on one core, against about 1 ms per kilobyte of prose.
const MAX_PIECE_LENGTH = 128;

/**
 * Returns an encoder that gives the same tokens as `tokenizer.encode`, except that a piece of
 * the tokenizer's pre-tokenizer pattern (a run of letters, punctuation or whitespace) longer
 * than MAX_PIECE_LENGTH is encoded in parts of that length.
 * NOTE: for such runs the count can exceed that of the real tokenizer by about one token per
 * part. Chunk bounds are checked with this encoder, so they still hold for its counts.
 */
function boundedEncoder(tokenizer: Tiktoken, pattern: string): (text: string) => number[] {
  const encodeWhole = (text: string) => tokenizer.encode(text, [], []);
  return (text) => {
    if (text.length <= MAX_PIECE_LENGTH) {
      return encodeWhole(text);
    }
    const tokens: number[] = [];
    let encodedUpTo = 0;
    for (const match of text.matchAll(new RegExp(pattern, 'gu'))) {
      if (match[0].length <= MAX_PIECE_LENGTH) {
        continue;
      }
      appendAll(tokens, encodeWhole(text.slice(encodedUpTo, match.index)));
      const pieceEnd = match.index + match[0].length;
      for (let start = match.index; start < pieceEnd; ) {
        let end = Math.min(start + MAX_PIECE_LENGTH, pieceEnd);
        if (end < pieceEnd && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
        appendAll(tokens, encodeWhole(text.slice(start, end)));
        start = end;
      }
      encodedUpTo = pieceEnd;
    }
    appendAll(tokens, encodeWhole(text.slice(encodedUpTo)));
    return tokens;
  };
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function loadRanks(encoding: TokenEncoding): TiktokenBPE {
  // Loaded on demand because the rank tables are large JavaScript files (1.1 MB for
  // cl100k_base, 2.3 MB for o200k_base). TypeScript's node10 module resolution cannot see
  // these package subpath exports, hence `require`.
  const loaded = (
    encoding === 'o200k_base' ? require('js-tiktoken/ranks/o200k_base') : require('js-tiktoken/ranks/cl100k_base')
  ) as TiktokenBPE | { default: TiktokenBPE };
  return 'default' in loaded ? loaded.default : loaded;
}

/**
 * Reads the byte length of every token from the rank table, whose lines are
 * `<prefix> <first rank> <base64 token> <base64 token> ...` (js-tiktoken 1.0.21).
 */
function tokenByteLengths(ranks: TiktokenBPE): Uint16Array {
  const lengths: number[] = [];
  for (const line of ranks.bpe_ranks.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 3) {
      continue;
    }
    const firstRank = Number.parseInt(fields[1], 10);
    for (let index = 2; index < fields.length; index += 1) {
      const encoded = fields[index];
      const padding = encoded.endsWith('==') ? 2 : encoded.endsWith('=') ? 1 : 0;
      lengths[firstRank + index - 2] = (encoded.length / 4) * 3 - padding;
    }
  }
  return Uint16Array.from(lengths, (length) => length ?? 0);
}

/** Smallest piece the token packer places whole into a chunk, with its token count. */
interface TokenUnit {
  start: number;
  end: number;
  contentEnd: number;
  tokens: number;
  /** Strength of the split point at `start`: 0 paragraph, 1 sentence, 2 inside a sentence. */
  rank: number;
}

const INSIDE_SENTENCE_RANK = 2;
// How many overlap starts are tried when the token count of the text differs from the estimate.
const OVERLAP_ATTEMPTS = 3;

/**
 * Splits text into chunks of at most `size` tokens packed from whole sentences, preferring to
 * end at a paragraph, then a sentence. A sentence longer than `size` tokens is cut at token
 * boundaries (never inside a character). Consecutive chunks share at most `overlap` tokens,
 * starting at the strongest sentence or token boundary that fits. Token counts are those of
 * each chunk's trimmed text encoded alone, so the bound holds for the text as stored.
 */
export function tokenSpans(text: string, size: number, overlap: number, encoding: TokenEncoding): Span[] {
  const counter = tokenCounter(encoding);
  const units = buildUnits(text, size, counter);
  const countSpan = (start: number, end: number) => counter.count(text.slice(start, end).trim());

  const spans: Span[] = [];
  let first = 0;
  let previousEnd = 0;
  while (first < units.length) {
    let end = chooseEnd(units, first, size);
    // Drop units from the end until the real count fits. A single unit that does not fit is cut into characters.
    while (countSpan(units[first].start, units[end - 1].contentEnd) > size) {
      if (end - first > 1) {
        end -= 1;
        continue;
      }
      const pieces = splitIntoCharacters(text, units[first], counter);
      if (pieces.length === 1) {
        // One character is at most 4 tokens and chunk_size is at least 4, so this is not reached.
        break;
      }
      units.splice(first, 1, ...pieces);
      if (previousEnd > first) previousEnd += pieces.length - 1;
      end = first + 1;
    }
    if (end <= previousEnd) {
      // The overlap left no room for new text: start again right after the previous chunk.
      first = previousEnd;
      continue;
    }

    spans.push([units[first].start, units[end - 1].end]);
    previousEnd = end;
    if (end >= units.length) {
      break;
    }
    first = chooseOverlapStart(units, first, end, size, overlap, countSpan);
  }
  return spans;
}

/** Returns the end (exclusive unit index) of the chunk that starts at `first`, by estimated counts. */
function chooseEnd(units: TokenUnit[], first: number, size: number): number {
  let total = 0;
  let end = first;
  while (end < units.length && total + units[end].tokens <= size) {
    total += units[end].tokens;
    end += 1;
  }
  if (end === first) {
    return first + 1;
  }
  if (end >= units.length) {
    return end;
  }

  // Move the end back to the strongest boundary in the second half of the chunk.
  let best = end;
  let bestRank = units[end].rank;
  let tokensBefore = total;
  for (let index = end - 1; index > first; index -= 1) {
    tokensBefore -= units[index].tokens;
    if (tokensBefore < size / 2) {
      break;
    }
    if (units[index].rank < bestRank) {
      best = index;
      bestRank = units[index].rank;
    }
  }
  return best;
}

/**
 * Returns the first unit of the chunk after `[first, end)`: the strongest boundary whose
 * units up to `end` fit in `overlap` tokens, leaving room for unit `end`, or `end` itself.
 */
function chooseOverlapStart(
  units: TokenUnit[],
  first: number,
  end: number,
  size: number,
  overlap: number,
  countSpan: (start: number, end: number) => number,
): number {
  if (overlap === 0) {
    return end;
  }
  const candidates: number[] = [];
  let overlapTokens = 0;
  for (let index = end - 1; index > first; index -= 1) {
    overlapTokens += units[index].tokens;
    if (overlapTokens > overlap || overlapTokens + units[end].tokens > size) {
      break;
    }
    candidates.push(index);
  }
  // Strongest first, then earliest, as more overlap gives more context.
  candidates.sort((a, b) => units[a].rank - units[b].rank || a - b);

  const previousEnd = units[end - 1].contentEnd;
  for (const candidate of candidates.slice(0, OVERLAP_ATTEMPTS)) {
    if (countSpan(units[candidate].start, previousEnd) <= overlap) {
      return candidate;
    }
  }
  return end;
}

/**
 * Splits the text into whole sentences with their token counts, and sentences longer than
 * `size` tokens into runs of tokens that start and end on character boundaries.
 */
function buildUnits(text: string, size: number, counter: TokenCounter): TokenUnit[] {
  const units: TokenUnit[] = [];
  for (const atom of splitSentences(text, [''], text.length)) {
    const tokens = counter.encode(text.slice(atom.start, atom.contentEnd));
    if (tokens.length <= size) {
      units.push({ start: atom.start, end: atom.end, contentEnd: atom.contentEnd, tokens: tokens.length, rank: atom.boundaryRank });
      continue;
    }
    const pieces = splitAtTokenBoundaries(text, atom.start, atom.contentEnd, tokens, counter.byteLengths);
    pieces[0].rank = atom.boundaryRank;
    pieces[pieces.length - 1].end = atom.end;
    appendAll(units, pieces);
  }
  return units;
}

/**
 * Maps the tokens of `text[start, contentEnd)` back to character offsets. Tokens are byte
 * sequences, so one character can span several tokens. Such tokens form one unit, which
 * starts and ends on a character boundary.
 */
function splitAtTokenBoundaries(text: string, start: number, contentEnd: number, tokens: number[], byteLengths: Uint16Array): TokenUnit[] {
  const units: TokenUnit[] = [];
  let position = start;
  let positionBytes = 0;
  let unitStart = start;
  let tokenBytes = 0;
  let tokenCount = 0;

  for (const token of tokens) {
    tokenBytes += byteLengths[token];
    tokenCount += 1;
    while (position < contentEnd && positionBytes < tokenBytes) {
      const codePoint = text.codePointAt(position) as number;
      positionBytes += utf8Length(codePoint);
      position += codePoint > 0xffff ? 2 : 1;
    }
    if (positionBytes === tokenBytes && position > unitStart) {
      units.push({ start: unitStart, end: position, contentEnd: trimmedEnd(text, unitStart, position), tokens: tokenCount, rank: INSIDE_SENTENCE_RANK });
      unitStart = position;
      tokenCount = 0;
    }
  }
  if (unitStart < contentEnd || units.length === 0) {
    units.push({ start: unitStart, end: contentEnd, contentEnd: trimmedEnd(text, unitStart, contentEnd), tokens: tokenCount, rank: INSIDE_SENTENCE_RANK });
  } else if (tokenCount > 0) {
    units[units.length - 1].tokens += tokenCount;
  }
  return units;
}

/** Splits a unit into one unit per code point, each counted alone (at most 4 tokens). */
function splitIntoCharacters(text: string, unit: TokenUnit, counter: TokenCounter): TokenUnit[] {
  const pieces: TokenUnit[] = [];
  let position = unit.start;
  while (position < unit.contentEnd) {
    const length = (text.codePointAt(position) as number) > 0xffff ? 2 : 1;
    const end = position + length;
    pieces.push({ start: position, end, contentEnd: end, tokens: counter.count(text.slice(position, end)), rank: INSIDE_SENTENCE_RANK });
    position = end;
  }
  if (pieces.length === 0) {
    return [unit];
  }
  pieces[0].rank = unit.rank;
  pieces[pieces.length - 1].end = unit.end;
  return pieces;
}

/** UTF-8 length of a code point as `TextEncoder` writes it; a lone surrogate becomes U+FFFD (3 bytes). */
function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint <= 0xffff) return 3;
  return 4;
}
