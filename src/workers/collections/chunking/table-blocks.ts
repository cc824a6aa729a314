import { ChunkSpan, Span } from 'src/workers/collections/chunking/chunk-packing';
import { BlockItem, packBlocks, StructuredBlock, wordStartOutside } from 'src/workers/collections/chunking/structured-blocks';
import { appendAll, splitRecursively, TextAtom, trimmedEnd } from 'src/workers/collections/chunking/text-atoms';

export type TableKind = 'markdown' | 'pipe_rows' | 'delimited';

/** A table found in the text: `[start, end)`, its rows and where its header rows end. */
export interface TableInfo {
  kind: TableKind;
  start: number;
  end: number;
  /** Start of the first data row: the header is `[start, headerEnd)`. */
  headerEnd: number;
  /** Start of every row, header rows included, in increasing order. */
  rowStarts: number[];
}

// Separators for a row that alone is longer than the bound: cells first, then words.
const ROW_SEPARATORS = [' | ', '|', '\t', ';', ',', ' ', ''];

// GFM delimiter row, such as `| --- | :-: |` or `---|---`.
const DELIMITER_ROW = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;

/** Builds the structured block of a table: rows are never split unless one alone exceeds the bound. */
export function tableBlock(text: string, table: TableInfo): StructuredBlock {
  const rowStarts = table.rowStarts;
  const rowStartSet = new Set(rowStarts);
  return {
    start: table.start,
    end: table.end,
    headerEnd: table.headerEnd,
    isOverlapStart: (_text, position) => rowStartSet.has(position),
    splitBody(from, maxLength) {
      const atoms: TextAtom[] = [];
      const splitRows: Span[] = [];
      const starts = [from, ...rowStarts.filter((position) => position > from)];
      starts.forEach((rowStart, index) => {
        const rowEnd = index + 1 < starts.length ? starts[index + 1] : table.end;
        const contentEnd = trimmedEnd(text, rowStart, rowEnd);
        if (contentEnd - rowStart <= maxLength) {
          atoms.push({ start: rowStart, end: rowEnd, contentEnd, boundaryRank: 0, divisible: false });
          return;
        }
        const contentStart = rowStart + (rowEnd - rowStart - text.slice(rowStart, rowEnd).trimStart().length);
        if (contentEnd - contentStart <= maxLength) {
          // Only the indentation makes the row too long: an atom of its own keeps the row whole.
          atoms.push({ start: rowStart, end: contentStart, contentEnd: rowStart, boundaryRank: 0, divisible: false });
          atoms.push({ start: contentStart, end: rowEnd, contentEnd, boundaryRank: 0, divisible: false });
          return;
        }
        // Row starts rank 0, the cuts inside this row 1 and weaker.
        const pieces = splitRecursively(text, rowStart, rowEnd, ROW_SEPARATORS, maxLength, 1);
        pieces[0].boundaryRank = 0;
        appendAll(atoms, pieces);
        splitRows.push([rowStart, contentEnd]);
      });
      return { atoms, splitRows };
    },
  };
}

/** A line of the text: `[start, end)` without its line break, and `next`, where the following line starts. */
export interface TextLine {
  start: number;
  end: number;
  next: number;
  text: string;
}

export function splitLines(text: string, start = 0, end = text.length): TextLine[] {
  const lines: TextLine[] = [];
  let lineStart = start;
  while (lineStart < end) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline === -1 || newline >= end ? end : newline;
    const next = Math.min(lineEnd + 1, end);
    lines.push({ start: lineStart, end: lineEnd, next, text: text.slice(lineStart, lineEnd).replace(/\r$/, '') });
    lineStart = next;
  }
  return lines;
}

/**
 * Returns the GFM table that starts at `lines[index]`: a header row with `|`, a delimiter row
 * with as many cells, then the following non-blank lines that contain `|`.
 */
export function findMarkdownTableAt(lines: TextLine[], index: number): { table: TableInfo; nextIndex: number } | undefined {
  const header = lines[index];
  const delimiter = lines[index + 1];
  if (!header || !delimiter || !header.text.includes('|') || !DELIMITER_ROW.test(delimiter.text)) {
    return undefined;
  }
  if (countMarkdownCells(header.text) !== countMarkdownCells(delimiter.text)) {
    return undefined;
  }

  let last = index + 1;
  while (last + 1 < lines.length && lines[last + 1].text.trim() !== '' && lines[last + 1].text.includes('|')) {
    last += 1;
  }
  const rowStarts = lines.slice(index, last + 1).map((line) => line.start);
  const headerEnd = delimiter.next;
  return {
    table: { kind: 'markdown', start: header.start, end: lines[last].next, headerEnd, rowStarts },
    nextIndex: last + 1,
  };
}

function countMarkdownCells(line: string): number {
  const inner = line.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '');
  return inner.split(/(?<!\\)\|/).length;
}

/**
 * Finds the tables of a text: GFM tables, blocks of two or more rows written as `a | b | c`
 * (blank lines may separate the rows), and CSV, TSV or semicolon-separated blocks.
 * A delimited block needs consecutive rows with the same number of fields, at least 2. It
 * needs 2 such rows with tabs, and 3 with commas or semicolons (4 when rows have 2 fields).
 * With commas or semicolons the average field length must be at most 40 characters, so that
 * prose with commas is rarely taken for a table.
 * The first row of a `pipe_rows` or `delimited` table is taken as its header.
 * NOTE: a title line above the header row (as in some CSV exports) is taken as the header
 * when it has the same number of fields.
 */
export function findTables(text: string): TableInfo[] {
  const records = splitRecords(text);
  const runs = delimiterRunsOf(records);
  // Text length of the records before each index, for average field lengths of any run.
  const lengthBefore = [0];
  for (const record of records) {
    lengthBefore.push(lengthBefore[lengthBefore.length - 1] + record.text.length);
  }
  const tables: TableInfo[] = [];

  let index = 0;
  while (index < records.length) {
    if (records[index].text.trim() === '') {
      index += 1;
      continue;
    }
    const found = findMarkdownTableAt(records, index) ?? findPipeRowsAt(records, index) ?? findDelimitedAt(records, runs, lengthBefore, index);
    if (found) {
      tables.push(found.table);
      index = found.nextIndex;
    } else {
      index += 1;
    }
  }
  return tables;
}

function findPipeRowsAt(records: TextLine[], index: number): { table: TableInfo; nextIndex: number } | undefined {
  if (!records[index].text.includes(' | ')) {
    return undefined;
  }
  const rows = [index];
  let next = index + 1;
  while (next < records.length) {
    if (records[next].text.trim() === '') {
      next += 1;
      continue;
    }
    if (!records[next].text.includes(' | ')) {
      break;
    }
    rows.push(next);
    next += 1;
  }
  if (rows.length < 2) {
    return undefined;
  }
  const last = rows[rows.length - 1];
  return {
    table: {
      kind: 'pipe_rows',
      start: records[index].start,
      end: records[last].next,
      headerEnd: records[rows[1]].start,
      rowStarts: rows.map((row) => records[row].start),
    },
    nextIndex: last + 1,
  };
}

const DELIMITERS = ['\t', ';', ','];
const MAX_AVERAGE_FIELD_LENGTH = 40;

/** Field counts of every record for one delimiter, with the runs of equal counts. */
interface DelimiterRuns {
  delimiter: string;
  fields: number[];
  /** Index of the last record of the run of equal field counts that contains each record. */
  runLast: number[];
}

/** Counts fields once per delimiter, so that looking for a table at each record takes constant time. */
function delimiterRunsOf(records: TextLine[]): DelimiterRuns[] {
  return DELIMITERS.map((delimiter) => {
    const fields = records.map((record) => countFields(record.text, delimiter));
    const runLast = new Array<number>(records.length);
    for (let index = records.length - 1; index >= 0; index -= 1) {
      const continues = index + 1 < records.length && fields[index + 1] === fields[index];
      runLast[index] = continues ? runLast[index + 1] : index;
    }
    return { delimiter, fields, runLast };
  });
}

function findDelimitedAt(
  records: TextLine[],
  runs: DelimiterRuns[],
  lengthBefore: number[],
  index: number,
): { table: TableInfo; nextIndex: number } | undefined {
  let best: number | undefined;
  for (const { delimiter, fields: fieldCounts, runLast } of runs) {
    const fields = fieldCounts[index];
    if (fields < 2) {
      continue;
    }
    const last = runLast[index];
    const rowCount = last - index + 1;
    let minimumRows = 3;
    if (delimiter === '\t') {
      minimumRows = 2;
    } else if (fields === 2) {
      minimumRows = 4;
    }
    const averageField = (lengthBefore[last + 1] - lengthBefore[index]) / (rowCount * fields);
    if (rowCount < minimumRows || (delimiter !== '\t' && averageField > MAX_AVERAGE_FIELD_LENGTH)) {
      continue;
    }
    if (best === undefined || last > best) {
      best = last;
    }
  }
  if (best === undefined) {
    return undefined;
  }
  const rows = records.slice(index, best + 1);
  return {
    table: {
      kind: 'delimited',
      start: rows[0].start,
      end: rows[rows.length - 1].next,
      headerEnd: rows[1].start,
      rowStarts: rows.map((row) => row.start),
    },
    nextIndex: best + 1,
  };
}

/** Counts the fields of a delimited row; a delimiter inside double quotes does not count. */
function countFields(row: string, delimiter: string): number {
  if (row.trim() === '') {
    return 0;
  }
  let fields = 1;
  let quoted = false;
  for (const character of row) {
    if (character === '"') {
      quoted = !quoted;
    } else if (character === delimiter && !quoted) {
      fields += 1;
    }
  }
  return fields;
}

// A record that opens a quote joins at most this many lines; a stray quote mark then
// no longer swallows the rest of the text.
const MAX_LINES_PER_RECORD = 50;

/**
 * Splits the text into records: lines, except that a line break inside double quotes (a CSV
 * field with a line break) joins the lines around it.
 */
function splitRecords(text: string): TextLine[] {
  const lines = splitLines(text);
  const records: TextLine[] = [];
  let index = 0;
  while (index < lines.length) {
    let last = index;
    let quotes = countQuotes(lines[index].text);
    while (quotes % 2 === 1 && last + 1 < lines.length && last - index < MAX_LINES_PER_RECORD) {
      last += 1;
      quotes += countQuotes(lines[last].text);
    }
    if (quotes % 2 === 1) {
      last = index;
    }
    const first = lines[index];
    const final = lines[last];
    records.push({ start: first.start, end: final.end, next: final.next, text: text.slice(first.start, final.end) });
    index = last + 1;
  }
  return records;
}

function countQuotes(line: string): number {
  let count = 0;
  for (const character of line) {
    if (character === '"') count += 1;
  }
  return count;
}

/**
 * Chunks text with tables kept whole when they fit (see `findTables`); a longer table is
 * split between rows with its header repeated (see `packOversizedBlock`). Text outside
 * tables is split with `separators` as in `recursive_character`.
 */
export function chunkTables(text: string, size: number, overlap: number, separators: readonly string[]): ChunkSpan[] {
  const tables = findTables(text);
  const items: BlockItem[] = [];
  let position = 0;
  for (const table of tables) {
    if (table.start > position) {
      items.push({ atoms: splitRecursively(text, position, table.start, separators, size) });
    }
    items.push({ block: tableBlock(text, table), rank: 0 });
    position = table.end;
  }
  if (position < text.length) {
    items.push({ atoms: splitRecursively(text, position, text.length, separators, size) });
  }
  return packBlocks(text, items, size, overlap, wordStartOutside(tables));
}
