import { ExtractedPart, ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import { decodeText } from 'src/workers/collections/extraction/text-decoding';

export interface CsvOptions {
  fileName: string;
  charset?: string;
  /** Field delimiter; sniffed from the text when left out. */
  delimiter?: string;
}

const CANDIDATE_DELIMITERS = [',', ';', '\t'];
// Records that delimiter and header sniffing look at.
const SNIFF_ROWS = 50;
const ROWS_PER_PART = 50;
// A title line above the header, such as "Quarterly sales,,", is only looked for this far down.
const MAX_TITLE_ROWS = 3;

const NUMBER = /^[-+]?[$€£¥]?\s?(\d{1,3}([,.\s]\d{3})*|\d+)([.,]\d+)?([eE][-+]?\d+)?\s?%?$/;
const DATE = /^(\d{4}-\d{2}-\d{2}([T ][\d:.]+Z?)?|\d{1,2}[./-]\d{1,2}[./-]\d{2,4})$/;
const BOOLEAN = /^(true|false|yes|no)$/i;

/**
 * Extracts a CSV or TSV file row by row. The delimiter (comma, semicolon or tab) is sniffed
 * unless given, quoted fields may hold delimiters and line breaks (RFC 4180), and the text is
 * decoded like plain text, so UTF-16 with a byte order mark works. When the first row looks
 * like a header, each row becomes `Header: value` pairs; otherwise its values are joined with
 * ` | `. A lone cell in a row above the header, such as a table caption, becomes the title.
 * Parts hold up to 50 rows with their 1-based record numbers `row_start` and `row_end`.
 */
export function extractCsv(data: Buffer, options: CsvOptions): ExtractorResult {
  const { text, encoding } = decodeText(data, options.charset);
  const delimiter = options.delimiter ?? sniffDelimiter(text);
  const rows = parseDelimited(text, delimiter).filter((row) => row.cells.some((cell) => cell.trim() !== ''));

  let first = 0;
  let title: string | undefined;
  while (first < Math.min(rows.length - 1, MAX_TITLE_ROWS) && isTitleRow(rows[first].cells, rows[first + 1].cells)) {
    title ??= rows[first].cells[0].trim();
    first += 1;
  }

  const header = looksLikeHeader(rows.slice(first, first + SNIFF_ROWS + 1).map((row) => row.cells))
    ? rows[first].cells.map((cell) => cell.trim())
    : undefined;
  const dataRows = rows.slice(header ? first + 1 : first);

  const parts: ExtractedPart[] = [];
  for (let start = 0; start < dataRows.length; start += ROWS_PER_PART) {
    const group = dataRows.slice(start, start + ROWS_PER_PART);
    parts.push({
      text: group.map((row) => formatRow(row.cells, header)).join('\n'),
      metadata: { row_start: group[0].record, row_end: group[group.length - 1].record },
    });
  }

  const metadata: Record<string, unknown> = {
    encoding,
    delimiter,
    row_count: dataRows.length,
    column_count: Math.max(0, ...rows.map((row) => row.cells.length)),
  };
  if (header) {
    metadata.header = header;
  }
  return { parts, ...(title ? { title } : {}), metadata };
}

function formatRow(cells: string[], header: string[] | undefined): string {
  if (!header) {
    return cells.map((cell) => cell.trim()).join(' | ');
  }
  const pairs: string[] = [];
  cells.forEach((cell, index) => {
    const value = cell.trim();
    if (value !== '') {
      pairs.push(`${header[index] || `Column ${index + 1}`}: ${value}`);
    }
  });
  return pairs.join(' | ');
}

interface DelimitedRow {
  /** 1-based number of the record in the file, counting title and header rows. */
  record: number;
  cells: string[];
}

/**
 * Splits delimited text into records (RFC 4180): a field in double quotes may hold the
 * delimiter, line breaks and doubled quotes. Text after a closing quote is kept, as
 * spreadsheet programs do, instead of failing.
 */
export function parseDelimited(text: string, delimiter: string, maxRows = Infinity): DelimitedRow[] {
  const rows: DelimitedRow[] = [];
  let cells: string[] = [];
  let field = '';
  let inQuotes = false;
  let fieldStarted = false;

  const endRow = (): void => {
    cells.push(field);
    rows.push({ record: rows.length + 1, cells });
    cells = [];
    field = '';
    fieldStarted = false;
  };

  for (let index = 0; index < text.length && rows.length < maxRows; index += 1) {
    const character = text[index];
    if (inQuotes) {
      if (character !== '"') {
        field += character;
      } else if (text[index + 1] === '"') {
        field += '"';
        index += 1;
      } else {
        inQuotes = false;
      }
      continue;
    }

    if (character === '"' && !fieldStarted) {
      inQuotes = true;
      fieldStarted = true;
    } else if (character === delimiter) {
      cells.push(field);
      field = '';
      fieldStarted = false;
    } else if (character === '\n' || character === '\r') {
      if (character === '\r' && text[index + 1] === '\n') {
        index += 1;
      }
      endRow();
    } else {
      field += character;
      fieldStarted = true;
    }
  }
  if ((field !== '' || cells.length > 0) && rows.length < maxRows) {
    endRow();
  }
  return rows;
}

/**
 * Picks the candidate delimiter that splits the first records into the same number of fields
 * (more than one) most often, preferring more fields on a tie. Falls back to a comma.
 */
export function sniffDelimiter(text: string): string {
  const sample = text.slice(0, 64 * 1024);
  let best = { delimiter: ',', consistentRows: 0, fields: 1 };

  for (const delimiter of CANDIDATE_DELIMITERS) {
    const counts = parseDelimited(sample, delimiter, SNIFF_ROWS)
      .filter((row) => row.cells.some((cell) => cell.trim() !== ''))
      .map((row) => row.cells.length);
    const frequency = new Map<number, number>();
    for (const count of counts) {
      frequency.set(count, (frequency.get(count) ?? 0) + 1);
    }
    for (const [fields, consistentRows] of frequency) {
      const better = consistentRows > best.consistentRows || (consistentRows === best.consistentRows && fields > best.fields);
      if (fields > 1 && better) {
        best = { delimiter, consistentRows, fields };
      }
    }
  }
  return best.delimiter;
}

function isTitleRow(row: string[], next: string[]): boolean {
  const filled = row.filter((cell) => cell.trim() !== '').length;
  const nextFilled = next.filter((cell) => cell.trim() !== '').length;
  return filled === 1 && row[0].trim() !== '' && nextFilled >= 2;
}

type CellType = 'number' | 'date' | 'boolean' | 'text';

function cellType(value: string): CellType {
  if (NUMBER.test(value)) return 'number';
  if (DATE.test(value)) return 'date';
  if (BOOLEAN.test(value)) return 'boolean';
  return 'text';
}

/**
 * Votes on each column, as Python's `csv.Sniffer.has_header` does. When the values below share
 * a type (number, date, boolean) or a length and the first cell does not, the first row gains
 * a vote. It loses one when the first cell matches. A first row with empty or repeated cells
 * before its last named cell is never a header.
 */
function looksLikeHeader(rows: string[][]): boolean {
  const [candidate, ...below] = rows;
  if (!candidate || below.length === 0) {
    return false;
  }
  const names = candidate.map((cell) => cell.trim());
  const lastNamed = names.reduce((last, name, index) => (name !== '' ? index : last), -1);
  const named = names.slice(0, lastNamed + 1);
  if (named.length < 2 || named.includes('') || new Set(named).size !== named.length) {
    return false;
  }

  let votes = 0;
  named.forEach((name, column) => {
    const values = below.map((row) => (row[column] ?? '').trim()).filter((value) => value !== '');
    if (values.length === 0) {
      return;
    }
    const types = new Set(values.map(cellType));
    const [onlyType] = types;
    if (types.size === 1 && onlyType !== 'text') {
      votes += cellType(name) === onlyType ? -1 : 1;
      return;
    }
    const lengths = new Set(values.map((value) => value.length));
    if (lengths.size === 1) {
      votes += lengths.has(name.length) ? -1 : 1;
    }
  });
  return votes > 0;
}
