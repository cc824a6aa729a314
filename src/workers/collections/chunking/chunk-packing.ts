import { TextAtom } from 'src/workers/collections/chunking/text-atoms';

/** `[start, end)` of the input text. */
export type Span = [start: number, end: number];

/** A chunk before its whitespace is trimmed: `[start, end)` and what the strategy adds. */
export interface ChunkSpan {
  start: number;
  end: number;
  /** Text shown before the chunk, such as a repeated table header. Counts toward `chunk_size`. */
  prefix?: string;
  metadata?: Record<string, unknown>;
}

export function toChunkSpans(spans: Span[]): ChunkSpan[] {
  return spans.map(([start, end]) => ({ start, end }));
}

const WHITESPACE = /\s/;

/**
 * Packs consecutive atoms into spans of at most `size` characters once trailing whitespace
 * is trimmed. A span ends at the
 * strongest split point in its second half, so chunks break between paragraphs or sentences
 * where possible. Each span after the first starts up to `overlap` characters before the end
 * of the previous one. It starts at the strongest atom boundary in that window if there is
 * one. Otherwise it starts at any character inside a long unbroken run, or at a position that
 * `isOverlapStart` accepts (by default a word start), or without overlap.
 * Expects atoms that tile a range of the text, with every non-divisible atom's content at
 * most `size` long.
 */
export function packAtoms(
  text: string,
  atoms: TextAtom[],
  size: number,
  overlap: number,
  isOverlapStart: OverlapStartTest = isWordStart,
): Span[] {
  if (atoms.length === 0) {
    return [];
  }

  const spans: Span[] = [];
  const textEnd = atoms[atoms.length - 1].end;
  let start = atoms[0].start;
  let previousEnd = start;

  while (start < textEnd) {
    const end = findSpanEnd(text, atoms, start, size, previousEnd);
    spans.push([start, end]);
    if (end >= textEnd) {
      break;
    }
    start = chooseNextStart(text, atoms, start, end, size, overlap, isOverlapStart);
    previousEnd = end;
  }
  return spans;
}

/**
 * Returns the end of the span starting at `start`. It lies beyond `previousEnd`, so that
 * every span reaches further than the one before it.
 */
function findSpanEnd(text: string, atoms: TextAtom[], start: number, size: number, previousEnd: number): number {
  const limit = start + size;
  let index = atomIndexAt(atoms, start);
  let end = start;
  while (index < atoms.length && atoms[index].contentEnd <= limit) {
    end = atoms[index].end;
    index += 1;
  }
  if (index >= atoms.length) {
    return end;
  }

  // The next atom does not fit. Only a divisible atom can be cut, which also covers the case
  // where nothing fits: the content of every other atom is at most `size` long.
  if (atoms[index].divisible && (end <= previousEnd || end === start)) {
    return safeCut(text, limit, Math.max(start, previousEnd) + 1);
  }
  let greedyEnd = end;
  if (atoms[index].divisible) {
    // Fill the rest of the span with the start of the divisible atom, unless that would end
    // inside a surrogate pair with no room to step back.
    const cut = Math.min(limit, text.length);
    greedyEnd = splitsSurrogatePair(text, cut) ? Math.max(end, cut - 1) : cut;
  }
  return preferStrongBoundary(atoms, index, start, size, previousEnd, greedyEnd);
}

/**
 * Moves the span end back to the strongest atom boundary in the second half of the span,
 * preferring the latest among equally strong ones. `nextIndex` is the first atom that did not fit.
 */
function preferStrongBoundary(
  atoms: TextAtom[],
  nextIndex: number,
  start: number,
  size: number,
  previousEnd: number,
  greedyEnd: number,
): number {
  const earliest = Math.max(start + Math.ceil(size / 2), previousEnd + 1);
  // A cut inside a divisible atom is the weakest possible split point.
  let bestEnd = greedyEnd;
  let bestRank = greedyEnd === atoms[nextIndex].start ? atoms[nextIndex].boundaryRank : Number.POSITIVE_INFINITY;

  for (let index = nextIndex - 1; index >= 0 && atoms[index].start >= earliest; index -= 1) {
    if (atoms[index].boundaryRank < bestRank) {
      bestRank = atoms[index].boundaryRank;
      bestEnd = atoms[index].start;
    }
  }
  return bestEnd;
}

/** Chooses where the span after `[previousStart, previousEnd)` starts. */
function chooseNextStart(
  text: string,
  atoms: TextAtom[],
  previousStart: number,
  previousEnd: number,
  size: number,
  overlap: number,
  isOverlapStart: OverlapStartTest,
): number {
  if (overlap === 0) {
    return previousEnd;
  }

  // The next span starts after the first non-whitespace character of the previous one, so
  // that it never contains the whole previous chunk once both are trimmed.
  let lower = Math.max(previousEnd - overlap, firstNonWhitespace(text, previousStart, previousEnd) + 1);
  const nextAtom = atoms[atomIndexAt(atoms, previousEnd)];
  if (nextAtom.divisible) {
    // The next span must hold at least the whole character after `previousEnd`.
    const nextCharacterEnd = previousEnd + (splitsSurrogatePair(text, previousEnd + 1) ? 2 : 1);
    lower = Math.max(lower, nextCharacterEnd - size);
  } else {
    // The next span must hold the rest of the atom after `previousEnd` to make progress.
    lower = Math.max(lower, nextAtom.contentEnd - size);
  }
  if (lower >= previousEnd) {
    return previousEnd;
  }

  const boundary = strongestAtomStart(atoms, lower, previousEnd);
  if (boundary !== undefined) {
    return boundary;
  }
  if (atoms[atomIndexAt(atoms, lower)].divisible) {
    // Step forward rather than back so that the overlap stays within `overlap`.
    if (!splitsSurrogatePair(text, lower)) {
      return lower;
    }
    return lower + 1 < previousEnd ? lower + 1 : previousEnd;
  }
  for (let position = lower; position < previousEnd; position += 1) {
    if (isOverlapStart(text, position)) {
      return position;
    }
  }
  return previousEnd;
}

/** Decides whether the overlap of a chunk may start at `position` inside an atom. */
export type OverlapStartTest = (text: string, position: number) => boolean;

export function isWordStart(text: string, position: number): boolean {
  return position > 0 && WHITESPACE.test(text[position - 1]) && !WHITESPACE.test(text[position]);
}

export function isLineStart(text: string, position: number): boolean {
  return position > 0 && text[position - 1] === '\n';
}

/** Returns the strongest atom start in `[from, to)`, the earliest among equally strong ones. */
function strongestAtomStart(atoms: TextAtom[], from: number, to: number): number | undefined {
  let best: TextAtom | undefined;
  for (let index = atomIndexAt(atoms, from); index < atoms.length && atoms[index].start < to; index += 1) {
    const atom = atoms[index];
    if (atom.start >= from && (best === undefined || atom.boundaryRank < best.boundaryRank)) {
      best = atom;
    }
  }
  return best?.start;
}

/** Returns the index of the atom that contains `position`, or of the last atom for the end of the text. */
function atomIndexAt(atoms: TextAtom[], position: number): number {
  let low = 0;
  let high = atoms.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (atoms[middle].start <= position) {
      low = middle;
    } else {
      high = middle - 1;
    }
  }
  return low;
}

function firstNonWhitespace(text: string, from: number, to: number): number {
  let position = from;
  while (position < to && WHITESPACE.test(text[position])) {
    position += 1;
  }
  return position;
}

/**
 * Moves a cut that would separate a UTF-16 surrogate pair one position back, unless that
 * would put it below `minimum`. With a chunk size of 1 the pair cannot be kept together.
 */
export function safeCut(text: string, position: number, minimum: number): number {
  const cut = Math.min(position, text.length);
  return splitsSurrogatePair(text, cut) && cut - 1 >= minimum ? cut - 1 : cut;
}

export function splitsSurrogatePair(text: string, position: number): boolean {
  return (
    position > 0 &&
    position < text.length &&
    isHighSurrogate(text.charCodeAt(position - 1)) &&
    isLowSurrogate(text.charCodeAt(position))
  );
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
