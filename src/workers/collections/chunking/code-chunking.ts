import { isLineStart, packAtoms, Span } from 'src/workers/collections/chunking/chunk-packing';
import { CodeLanguage } from 'src/workers/collections/chunking/chunking-config';
import { appendAll, splitRecursively, TextAtom, trimmedEnd } from 'src/workers/collections/chunking/text-atoms';

/** Comment and string syntax skipped while counting brackets. */
interface CodeSyntax {
  lineComments: string[];
  blockComments: [open: string, close: string][];
  /** Delimiters of strings that end at the end of the line at the latest. */
  quotes: string[];
  /** Delimiters of strings that may span lines, longest first. */
  multilineQuotes: string[];
  /** `always`: `#` starts a comment. `after_space`: only at a line start or after whitespace, so `this.#field` is code. */
  hashComments: 'always' | 'after_space' | 'never';
}

const C_LIKE: CodeSyntax = {
  lineComments: ['//'],
  blockComments: [['/*', '*/']],
  quotes: ['"', "'"],
  multilineQuotes: [],
  hashComments: 'never',
};
const JS_LIKE: CodeSyntax = { ...C_LIKE, multilineQuotes: ['`'] };
const TRIPLE_QUOTED: CodeSyntax = { ...C_LIKE, multilineQuotes: ['"""'] };
const HASH_COMMENTED: CodeSyntax = { lineComments: [], blockComments: [], quotes: ['"', "'"], multilineQuotes: [], hashComments: 'always' };

const SYNTAX: Record<CodeLanguage, CodeSyntax> = {
  c: C_LIKE,
  cpp: C_LIKE,
  csharp: C_LIKE,
  go: JS_LIKE,
  java: TRIPLE_QUOTED,
  javascript: JS_LIKE,
  kotlin: TRIPLE_QUOTED,
  php: { ...C_LIKE, hashComments: 'always' },
  python: { ...HASH_COMMENTED, multilineQuotes: ['"""', "'''"] },
  ruby: HASH_COMMENTED,
  // A single quote in Rust is usually a lifetime ('a), not a string.
  rust: { ...C_LIKE, quotes: ['"'] },
  scala: TRIPLE_QUOTED,
  shell: HASH_COMMENTED,
  sql: { ...C_LIKE, lineComments: ['--'] },
  swift: TRIPLE_QUOTED,
  typescript: JS_LIKE,
};

const DEFAULT_SYNTAX: CodeSyntax = { ...JS_LIKE, hashComments: 'after_space' };

// A line starting with one of these continues the statement or block above it, so a
// declaration never starts there.
const CONTINUATION_LINE =
  /^(?:[}\])]|(?:end|else|elif|elsif|except|finally|catch|rescue|ensure|when|fi|done|esac|then|do)\b|\.|\?|:|&&|\|\||[+%,=])/;

// Decorators, annotations and comments belong to the declaration below them.
const ANNOTATION_LINE = /^(?:@|#|\/\/|\/\*|\*|--)/;
const CONTINUED_LINE_END = /(?:[,\\+\-*/%=&|<>.:?]|\b(?:and|or|not))$/;

// Boundary levels, strongest first. Each level is also the rank of its split points.
const TOP_LEVEL_AFTER_BLANK = 0;
const TOP_LEVEL = 1;
const AFTER_BLANK_LINE = 2;
const LINE = 3;
const LEVEL_COUNT = 4;
const INSIDE_LINE_SEPARATORS = [' ', ''];

interface CodeLine {
  start: number;
  blank: boolean;
  indented: boolean;
  /** Bracket depth and whether a comment or string was still open when the line started. */
  depthAtStart: number;
  openAtStart: boolean;
  depthAtEnd: number;
  /** Whether a comment or multi-line string is still open at the end of the line. */
  openAtEnd: boolean;
  firstCharacters: string;
  lastCharacters: string;
}

/**
 * Splits `[start, end)` of source code into atoms of at most `maxLength` characters without
 * trailing whitespace. A language-agnostic heuristic finds top-level declarations: a line
 * with no indentation, outside brackets, comments and multi-line strings, that does not
 * continue the statement above (`}`, `else`, `.method()` ...). Such a line after a blank
 * line is the strongest split point. Without the blank line it splits only when the line
 * above completes a statement, so a decorator or comment stays with the declaration below
 * it (see `endsStatement`). Text between those points that is too
 * long is split at lines after a blank line, then at any line, then at spaces, and a line
 * without spaces at any character. `language` picks the comment and string syntax.
 */
export function splitCode(
  text: string,
  start: number,
  end: number,
  maxLength: number,
  language: CodeLanguage | undefined,
  rankOffset = 0,
): TextAtom[] {
  const lines = scanLines(text, start, end, language ? SYNTAX[language] : DEFAULT_SYNTAX);
  const levels: number[][] = Array.from({ length: LEVEL_COUNT }, () => []);

  for (let index = 1; index < lines.length; index += 1) {
    const line = lines[index];
    const previous = lines[index - 1];
    levels[LINE].push(line.start);
    if (line.blank || line.openAtStart) {
      continue;
    }
    if (previous.blank) {
      levels[AFTER_BLANK_LINE].push(line.start);
    }
    if (line.depthAtStart > 0 || line.indented || CONTINUATION_LINE.test(line.firstCharacters)) {
      continue;
    }
    if (previous.blank) {
      levels[TOP_LEVEL_AFTER_BLANK].push(line.start);
    } else if (endsStatement(previous)) {
      levels[TOP_LEVEL].push(line.start);
    }
  }

  const atoms: TextAtom[] = [];
  splitAtLevels(text, start, end, levels, 0, maxLength, rankOffset, rankOffset, atoms);
  return atoms;
}

/** Splits source code into chunks at top-level declarations (see `splitCode`). */
export function codeSpans(text: string, size: number, overlap: number, language: CodeLanguage | undefined): Span[] {
  return packAtoms(text, splitCode(text, 0, text.length, size, language), size, overlap, isLineStart);
}

/**
 * True when the line leaves no bracket, comment or string open and neither annotates nor
 * continues into the next line: decorators, comments and lines ending in an operator, comma
 * or backslash stay with the line below them.
 */
function endsStatement(line: CodeLine): boolean {
  return (
    line.depthAtEnd === 0 &&
    !line.openAtEnd &&
    !ANNOTATION_LINE.test(line.firstCharacters) &&
    !CONTINUED_LINE_END.test(line.lastCharacters)
  );
}

/**
 * Splits `[start, end)` at the positions of the first level that has any inside it, then
 * splits pieces that are still too long with the next levels. `levels` are sorted.
 */
function splitAtLevels(
  text: string,
  start: number,
  end: number,
  levels: number[][],
  firstLevel: number,
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
  const contentStart = start + (text.slice(start, contentEnd).length - text.slice(start, contentEnd).trimStart().length);
  if (contentEnd - contentStart <= maxLength) {
    // Only the indentation makes the piece too long: it becomes an atom of its own, which
    // trimming removes, so the piece stays whole.
    atoms.push({ start, end: contentStart, contentEnd: start, boundaryRank: rankAtStart, divisible: false });
    atoms.push({ start: contentStart, end, contentEnd, boundaryRank: rankAtStart, divisible: false });
    return;
  }

  for (let level = firstLevel; level < levels.length; level += 1) {
    const positions = levels[level];
    let index = lowerBound(positions, start + 1);
    if (index >= positions.length || positions[index] >= end) {
      continue;
    }
    let pieceStart = start;
    let rank = rankAtStart;
    for (; index < positions.length && positions[index] < end; index += 1) {
      splitAtLevels(text, pieceStart, positions[index], levels, level + 1, maxLength, rankOffset, rank, atoms);
      pieceStart = positions[index];
      rank = rankOffset + level;
    }
    splitAtLevels(text, pieceStart, end, levels, level + 1, maxLength, rankOffset, rank, atoms);
    return;
  }

  const pieces = splitRecursively(text, start, end, INSIDE_LINE_SEPARATORS, maxLength, rankOffset + levels.length);
  pieces[0].boundaryRank = rankAtStart;
  appendAll(atoms, pieces);
}

function lowerBound(values: number[], target: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (values[middle] < target) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}

/** Scans the lines of `[start, end)`, tracking bracket depth outside comments and strings. */
function scanLines(text: string, start: number, end: number, syntax: CodeSyntax): CodeLine[] {
  const lines: CodeLine[] = [];
  let depth = 0;
  // The delimiter that closes the open block comment or multi-line string, if any.
  let closer: string | undefined;
  let lineStart = start;

  while (lineStart < end) {
    let lineEnd = text.indexOf('\n', lineStart);
    lineEnd = lineEnd === -1 || lineEnd >= end ? end : lineEnd;
    const line = text.slice(lineStart, lineEnd);
    const trimmed = line.trimStart();
    const openAtStart = closer !== undefined;
    const depthAtStart = depth;
    ({ depth, closer } = scanLine(line, depth, closer, syntax));
    lines.push({
      start: lineStart,
      blank: trimmed === '',
      indented: trimmed.length < line.length,
      depthAtStart,
      openAtStart,
      depthAtEnd: depth,
      openAtEnd: closer !== undefined,
      firstCharacters: trimmed.slice(0, 8),
      lastCharacters: line.trimEnd().slice(-4),
    });
    lineStart = lineEnd + 1;
  }
  return lines;
}

function scanLine(
  line: string,
  depthAtStart: number,
  openCloser: string | undefined,
  syntax: CodeSyntax,
): { depth: number; closer: string | undefined } {
  let depth = depthAtStart;
  let closer = openCloser;
  let position = 0;

  while (position < line.length) {
    if (closer !== undefined) {
      const found = findUnescaped(line, closer, position);
      if (found === -1) {
        return { depth, closer };
      }
      position = found + closer.length;
      closer = undefined;
      continue;
    }

    const character = line[position];
    if (syntax.lineComments.some((marker) => line.startsWith(marker, position)) || isHashComment(line, position, syntax)) {
      break;
    }
    const blockComment = syntax.blockComments.find(([open]) => line.startsWith(open, position));
    if (blockComment) {
      closer = blockComment[1];
      position += blockComment[0].length;
      continue;
    }
    const multiline = syntax.multilineQuotes.find((quote) => line.startsWith(quote, position));
    if (multiline) {
      closer = multiline;
      position += multiline.length;
      continue;
    }
    if (syntax.quotes.includes(character)) {
      const found = findUnescaped(line, character, position + 1);
      position = found === -1 ? line.length : found + 1;
      continue;
    }
    if (character === '{' || character === '(' || character === '[') {
      depth += 1;
    } else if (character === '}' || character === ')' || character === ']') {
      depth = Math.max(0, depth - 1);
    }
    position += 1;
  }
  return { depth, closer };
}

function isHashComment(line: string, position: number, syntax: CodeSyntax): boolean {
  if (line[position] !== '#' || syntax.hashComments === 'never') {
    return false;
  }
  return syntax.hashComments === 'always' || position === 0 || /\s/.test(line[position - 1]);
}

function findUnescaped(line: string, delimiter: string, from: number): number {
  let found = line.indexOf(delimiter, from);
  while (found > 0 && isEscaped(line, found)) {
    found = line.indexOf(delimiter, found + 1);
  }
  return found;
}

/** True when an odd number of backslashes precede `position`. */
function isEscaped(line: string, position: number): boolean {
  let count = 0;
  for (let index = position - 1; index >= 0 && line[index] === '\\'; index -= 1) {
    count += 1;
  }
  return count % 2 === 1;
}
