/** Filled cells of one spreadsheet row in column order, without the empty ones. */
export type SpreadsheetCells = { column: number; text: string }[];

/** One row as text: its cells from `firstColumn` on, joined with empty cells kept. */
export interface SpreadsheetRow {
  firstColumn: number;
  text: string;
}

const CELL_SEPARATOR = ' | ';

// A wider run of empty cells is written as one empty cell. Alignment with the header row
// is lost there, but a stray cell far to the right cannot blow a line up to thousands of
// separators.
const MAX_EMPTY_CELLS = 32;

/**
 * Joins the filled cells of a row with ` | `, keeping empty cells between them (up to
 * `MAX_EMPTY_CELLS` in a row) so that a value stays under its header. Line breaks inside a
 * cell become spaces, so that each row stays one line. Returns undefined for a row without
 * filled cells.
 */
export function renderSpreadsheetRow(cells: SpreadsheetCells): SpreadsheetRow | undefined {
  if (cells.length === 0) {
    return undefined;
  }
  const texts: string[] = [];
  let nextColumn = cells[0].column;
  for (const cell of cells) {
    texts.push(...emptyCells(cell.column - nextColumn));
    texts.push(cell.text.replace(/\s*[\r\n]+\s*/g, ' '));
    nextColumn = cell.column + 1;
  }
  return { firstColumn: cells[0].column, text: texts.join(CELL_SEPARATOR) };
}

/**
 * Renders one sheet as text: the sheet name as its own paragraph, then one line per row.
 * Every line starts at the sheet's first used column, so rows that start further right get
 * leading empty cells. Returns an empty string for a sheet without rows.
 */
export function formatSpreadsheetRows(sheetName: string, rows: SpreadsheetRow[]): string {
  if (rows.length === 0) {
    return '';
  }
  let firstColumn = Number.MAX_SAFE_INTEGER;
  for (const row of rows) {
    firstColumn = Math.min(firstColumn, row.firstColumn);
  }
  const lines = rows.map((row) => [...emptyCells(row.firstColumn - firstColumn), row.text].join(CELL_SEPARATOR).trim());
  return `${sheetName}\n\n${lines.join('\n')}`;
}

function emptyCells(count: number): string[] {
  if (count <= 0) {
    return [];
  }
  return new Array<string>(count > MAX_EMPTY_CELLS ? 1 : count).fill('');
}
