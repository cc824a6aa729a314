import { findParagraphStarts, findSentenceStarts } from 'src/workers/collections/chunking/sentence-boundaries';

/**
 * Smallest unit the packer places whole into a chunk: `[start, end)` of the input text.
 * Atoms tile the text in order without gaps.
 */
export interface TextAtom {
  start: number;
  end: number;
  /**
   * `end` without trailing whitespace. Chunks are trimmed, so only this part counts against
   * the chunk size. Separators such as `"\n\n"` and `" "` end their atom as whitespace.
   */
  contentEnd: number;
  /**
   * Strength of the split point at `start`: the index of the separator that produced it, so
   * 0 is the strongest. The packer prefers to end chunks at strong split points.
   */
  boundaryRank: number;
  /**
   * True for a run longer than the chunk size that no separator could split. The packer may
   * cut such an atom between any two characters.
   */
  divisible: boolean;
}

/**
 * Splits `[start, end)` of `text` into atoms of at most `maxLength` characters, not counting
 * trailing whitespace. A span that
 * is too long is split at every occurrence of the first separator it contains (the separator
 * stays at the end of the piece before it), and pieces still too long are split with the
 * separators after that one. A span no separator can split becomes one divisible atom;
 * `""` in `separators` marks that level explicitly.
 */
export function splitRecursively(
  text: string,
  start: number,
  end: number,
  separators: readonly string[],
  maxLength: number,
  rankOffset = 0,
): TextAtom[] {
  const atoms: TextAtom[] = [];
  splitSpan(text, start, end, separators, 0, maxLength, rankOffset, rankOffset, atoms);
  return atoms;
}

function splitSpan(
  text: string,
  start: number,
  end: number,
  separators: readonly string[],
  firstSeparator: number,
  maxLength: number,
  rankOffset: number,
  rankAtStart: number,
  atoms: TextAtom[],
): void {
  const contentEnd = trimmedEnd(text, start, end);
  if (contentEnd - start <= maxLength) {
    atoms.push({ start, end, contentEnd, boundaryRank: rankAtStart, divisible: false });
    return;
  }

  // Searching a copy of the span keeps each search within the span. indexOf on the whole text
  // would rescan everything after the span whenever the separator is absent from it.
  const span = text.slice(start, end);
  for (let level = firstSeparator; level < separators.length; level += 1) {
    const separator = separators[level];
    if (separator === '') {
      break;
    }
    let found = span.indexOf(separator);
    if (found === -1) {
      continue;
    }

    let pieceStart = 0;
    let rank = rankAtStart;
    while (found !== -1) {
      const pieceEnd = found + separator.length;
      splitSpan(text, start + pieceStart, start + pieceEnd, separators, level + 1, maxLength, rankOffset, rank, atoms);
      rank = rankOffset + level;
      pieceStart = pieceEnd;
      found = span.indexOf(separator, pieceEnd);
    }
    if (pieceStart < span.length) {
      splitSpan(text, start + pieceStart, end, separators, level + 1, maxLength, rankOffset, rank, atoms);
    }
    return;
  }

  atoms.push({ start, end, contentEnd, boundaryRank: rankAtStart, divisible: true });
}

/**
 * Appends `items` to `target` one by one. `target.push(...items)` passes every item as an
 * argument and overflows the call stack for arrays of a few hundred thousand items.
 */
export function appendAll<T>(target: T[], items: readonly T[]): void {
  for (const item of items) {
    target.push(item);
  }
}

export function trimmedEnd(text: string, start: number, end: number): number {
  let position = end;
  while (position > start && /\s/.test(text[position - 1])) {
    position -= 1;
  }
  return position;
}

const PARAGRAPH_RANK = 0;
const SENTENCE_RANK = 1;
const INSIDE_SENTENCE_RANK_OFFSET = 2;

/**
 * Splits `[start, end)` of `text` into sentence atoms (see `findSentenceStarts`). A sentence
 * longer than `maxLength` is split further with `separators`. Atoms that start a paragraph
 * get rank `rankOffset`, other sentences `rankOffset + 1`, and pieces inside a sentence
 * `rankOffset + 2` and up.
 */
export function splitSentences(
  text: string,
  separators: readonly string[],
  maxLength: number,
  start = 0,
  end = text.length,
  rankOffset = 0,
): TextAtom[] {
  const boundaries = new Map<number, number>();
  for (const position of findSentenceStarts(text, start, end)) {
    boundaries.set(position, SENTENCE_RANK);
  }
  for (const position of findParagraphStarts(text, start, end)) {
    boundaries.set(position, PARAGRAPH_RANK);
  }
  const positions = [...boundaries.keys()].sort((a, b) => a - b);

  const atoms: TextAtom[] = [];
  let sentenceStart = start;
  let rank = PARAGRAPH_RANK;
  for (const position of [...positions, end]) {
    if (position <= sentenceStart) {
      continue;
    }
    const pieces = splitRecursively(text, sentenceStart, position, separators, maxLength, rankOffset + INSIDE_SENTENCE_RANK_OFFSET);
    pieces[0].boundaryRank = rankOffset + rank;
    for (const piece of pieces) {
      atoms.push(piece);
    }
    rank = boundaries.get(position) ?? PARAGRAPH_RANK;
    sentenceStart = position;
  }
  return atoms;
}

/**
 * Splits `[start, end)` of `text` into paragraphs (blank-line separated). A paragraph whose
 * content fits in `maxLength` is one atom of rank `rankOffset`. A longer one is split into
 * sentences, and those into pieces with `separators` (ranks as in `splitSentences`).
 */
export function splitParagraphs(
  text: string,
  separators: readonly string[],
  maxLength: number,
  start = 0,
  end = text.length,
  rankOffset = 0,
): TextAtom[] {
  const atoms: TextAtom[] = [];
  let paragraphStart = start;
  for (const position of [...findParagraphStarts(text, start, end), end]) {
    if (position <= paragraphStart) {
      continue;
    }
    const contentEnd = trimmedEnd(text, paragraphStart, position);
    if (contentEnd - paragraphStart <= maxLength) {
      atoms.push({ start: paragraphStart, end: position, contentEnd, boundaryRank: rankOffset + PARAGRAPH_RANK, divisible: false });
    } else {
      appendAll(atoms, splitSentences(text, separators, maxLength, paragraphStart, position, rankOffset));
    }
    paragraphStart = position;
  }
  return atoms;
}
