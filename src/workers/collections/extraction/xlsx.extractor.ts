import { ExtractionDeadline } from 'src/workers/collections/extraction/extraction-deadline';
import { textTooLargeError } from 'src/workers/collections/extraction/extraction-errors';
import { ExtractedPart, ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import {
  damagedPackageError,
  PackageFormat,
  rejectOle2Package,
  ZipPackage,
} from 'src/workers/collections/extraction/office-package';
import {
  formatSpreadsheetRows,
  renderSpreadsheetRow,
  SpreadsheetCells,
  SpreadsheetRow,
} from 'src/workers/collections/extraction/spreadsheet-rows';
import { localName, scanXml } from 'src/workers/collections/extraction/xml-scanner';

export interface XlsxContext {
  fileName: string;
  deadline: ExtractionDeadline;
  maxTextChars: number;
}

interface SheetEntry {
  name: string;
  part: string;
  hidden: boolean;
}

interface NumberFormats {
  /** Number format id of each cell style (`cellXfs` index). */
  styleFormats: number[];
  /** Format codes of the workbook's custom number formats by id. */
  customCodes: Map<number, string>;
}

const XLSX_FORMAT: PackageFormat = { label: 'XLSX', codePrefix: 'xlsx', application: 'the spreadsheet application' };

const WORKSHEET_RELATIONSHIP = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet';
const OFFICE_DOCUMENT_RELATIONSHIP = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument';

// Built-in number formats that show dates or times (ECMA-376 SpreadsheetML), including the
// East Asian ones.
const BUILT_IN_DATE_FORMATS = new Set([
  14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54, 55,
  56, 57, 58,
]);
const BUILT_IN_PERCENT_FORMATS = new Set([9, 10]);

// Serial day 0 of the two date systems, in milliseconds since the Unix epoch. The 1900 system
// counts from 1899-12-30 because Excel treats 1900 as a leap year (serial 60 is 1900-02-29).
const EPOCH_1900_MS = Date.UTC(1899, 11, 30);
const EPOCH_1904_MS = Date.UTC(1904, 0, 1);
const MS_PER_DAY = 86_400_000;

/**
 * Extracts an XLSX or XLSM workbook: one part per worksheet in workbook order, with
 * `{ sheet: name }` and `hidden: true` for hidden sheets. Each row is one line of
 * `cell | cell`, starting at the sheet's first used column, with empty cells kept between
 * filled ones so that columns line up with the header row. Formula cells give the value
 * Excel cached when it last calculated, never the formula text. Dates and percentages are
 * formatted; other numbers are written with up to 15 significant digits.
 * Fails with `xlsx_encrypted`, `xlsx_not_ooxml`, `xlsx_damaged`, `xlsx_too_large` or `text_too_large`.
 * Limitation: number formats other than dates and percentages (thousands separators, fixed
 * decimals, currency symbols) are not applied, so 1234.5 formatted as `#,##0` reads 1234.5.
 */
export async function extractXlsx(data: Buffer, context: XlsxContext): Promise<ExtractorResult> {
  const { fileName, deadline } = context;
  rejectOle2Package(data, fileName, XLSX_FORMAT, 'xls');
  const zip = await ZipPackage.open(data, fileName, XLSX_FORMAT);

  const workbookPart = (await zip.readRelationships('')).find((rel) => rel.type === OFFICE_DOCUMENT_RELATIONSHIP)?.target;
  if (!workbookPart || !zip.has(workbookPart)) {
    throw damagedPackageError(fileName, XLSX_FORMAT, 'the workbook part is missing');
  }
  const { sheets, date1904, isWorkbook } = await readWorkbook(zip, workbookPart);
  if (!isWorkbook) {
    throw damagedPackageError(fileName, XLSX_FORMAT, `the main part "${workbookPart}" is not a workbook`);
  }
  const workbookRelationships = await zip.readRelationships(workbookPart);
  const sharedStringsPart = workbookRelationships.find((rel) => rel.type.endsWith('/sharedStrings'))?.target;
  const stylesPart = workbookRelationships.find((rel) => rel.type.endsWith('/styles'))?.target;
  const sharedStrings = sharedStringsPart ? await readSharedStrings(zip, sharedStringsPart, deadline) : [];
  const formats = stylesPart ? await readNumberFormats(zip, stylesPart) : { styleFormats: [], customCodes: new Map() };

  const parts: ExtractedPart[] = [];
  let totalChars = 0;
  let uncachedFormulaCount = 0;
  for (const sheet of sheets) {
    deadline.throwIfExpired();
    const reader = new WorksheetReader(sharedStrings, formats, date1904);
    await zip.scanPart(sheet.part, (xml) => scanXml(xml, reader, deadline));
    uncachedFormulaCount += reader.uncachedFormulaCount;

    const text = formatSpreadsheetRows(sheet.name, reader.rows);
    totalChars += text.length;
    if (totalChars > context.maxTextChars) {
      throw textTooLargeError(fileName, context.maxTextChars);
    }
    parts.push({ text, metadata: { sheet: sheet.name, ...(sheet.hidden ? { hidden: true } : {}) } });
  }

  const { title, author } = await zip.readCoreProperties();
  const hiddenSheets = sheets.filter((sheet) => sheet.hidden).map((sheet) => sheet.name);
  return {
    parts,
    title,
    metadata: {
      sheet_count: sheets.length,
      ...(hiddenSheets.length > 0 ? { hidden_sheets: hiddenSheets } : {}),
      ...(uncachedFormulaCount > 0 ? { formulas_without_cached_value: uncachedFormulaCount } : {}),
      ...(author ? { author } : {}),
    },
  };
}

/** Reads the worksheets in tab order and the date system from the workbook part. */
async function readWorkbook(
  zip: ZipPackage,
  workbookPart: string,
): Promise<{ sheets: SheetEntry[]; date1904: boolean; isWorkbook: boolean }> {
  const relationships = await zip.readRelationships(workbookPart);
  const worksheetTargets = new Map(
    relationships.filter((rel) => rel.type === WORKSHEET_RELATIONSHIP).map((rel) => [rel.id, rel.target]),
  );
  const sheets: SheetEntry[] = [];
  let date1904 = false;
  let isWorkbook = false;

  await zip.scanPart(workbookPart, (xml) =>
    scanXml(xml, {
      openElement: (name, attributes) => {
        const local = localName(name);
        isWorkbook ||= local === 'workbook';
        if (local === 'workbookPr') {
          date1904 = attributes.date1904 === '1' || attributes.date1904 === 'true';
        }
        // Chart sheets and dialog sheets have other relationship types and no cells.
        const part = local === 'sheet' ? worksheetTargets.get(attributes['r:id'] ?? '') : undefined;
        if (part) {
          sheets.push({ name: attributes.name ?? '', part, hidden: attributes.state === 'hidden' || attributes.state === 'veryHidden' });
        }
      },
    }),
  );
  return { sheets, date1904, isWorkbook };
}

/** Reads the shared string table: rich text runs joined, phonetic runs (`rPh`) left out. */
async function readSharedStrings(zip: ZipPackage, part: string, deadline: ExtractionDeadline): Promise<string[]> {
  const strings: string[] = [];
  let current = '';
  let inText = false;
  let phoneticDepth = 0;

  await zip.scanPart(part, (xml) =>
    scanXml(
      xml,
      {
        openElement: (name) => {
          const local = localName(name);
          if (local === 'si') current = '';
          else if (local === 'rPh') phoneticDepth += 1;
          else if (local === 't') inText = phoneticDepth === 0;
        },
        closeElement: (name) => {
          const local = localName(name);
          if (local === 'si') strings.push(current);
          else if (local === 'rPh') phoneticDepth -= 1;
          else if (local === 't') inText = false;
        },
        text: (text) => {
          if (inText) current += text;
        },
      },
      deadline,
    ),
  );
  return strings;
}

/** Reads the number format of each cell style and the custom format codes. */
async function readNumberFormats(zip: ZipPackage, part: string): Promise<NumberFormats> {
  const styleFormats: number[] = [];
  const customCodes = new Map<number, string>();
  let inCellFormats = false;

  await zip.scanPart(part, (xml) =>
    scanXml(xml, {
      openElement: (name, attributes) => {
        const local = localName(name);
        if (local === 'numFmt' && attributes.numFmtId !== undefined) {
          customCodes.set(Number(attributes.numFmtId), attributes.formatCode ?? '');
        } else if (local === 'cellXfs') {
          inCellFormats = true;
        } else if (local === 'xf' && inCellFormats) {
          styleFormats.push(Number(attributes.numFmtId ?? 0));
        }
      },
      closeElement: (name) => {
        if (localName(name) === 'cellXfs') inCellFormats = false;
      },
    }),
  );
  return { styleFormats, customCodes };
}

/** Collects the displayed value of every cell of one worksheet part, row by row. */
class WorksheetReader {
  readonly rows: SpreadsheetRow[] = [];
  uncachedFormulaCount = 0;

  private row: SpreadsheetCells | undefined;
  private nextColumn = 0;
  private cell: { column: number; type: string; style: number; value: string; hasFormula: boolean } | undefined;
  private inValue = false;
  private phoneticDepth = 0;

  constructor(
    private readonly sharedStrings: string[],
    private readonly formats: NumberFormats,
    private readonly date1904: boolean,
  ) {}

  openElement(name: string, attributes: Record<string, string>): void {
    switch (localName(name)) {
      case 'row':
        this.row = [];
        this.nextColumn = 0;
        break;
      case 'c': {
        const column = attributes.r ? columnIndex(attributes.r) : this.nextColumn;
        this.nextColumn = column + 1;
        this.cell = { column, type: attributes.t ?? 'n', style: Number(attributes.s ?? 0), value: '', hasFormula: false };
        break;
      }
      case 'f':
        if (this.cell) this.cell.hasFormula = true;
        break;
      case 'v':
        this.inValue = true;
        break;
      case 't':
        // Text of an inline string (`<is><t>`). Phonetic guides sit in `rPh`.
        this.inValue = this.cell?.type === 'inlineStr' && this.phoneticDepth === 0;
        break;
      case 'rPh':
        this.phoneticDepth += 1;
        break;
    }
  }

  closeElement(name: string): void {
    switch (localName(name)) {
      case 'v':
      case 't':
        this.inValue = false;
        break;
      case 'rPh':
        this.phoneticDepth -= 1;
        break;
      case 'c':
        this.finishCell();
        break;
      case 'row': {
        const row = this.row && renderSpreadsheetRow(this.row);
        if (row) this.rows.push(row);
        this.row = undefined;
        break;
      }
    }
  }

  text(text: string): void {
    if (this.inValue && this.cell) this.cell.value += text;
  }

  private finishCell(): void {
    const cell = this.cell;
    this.cell = undefined;
    if (!cell || !this.row) {
      return;
    }
    if (cell.value === '') {
      if (cell.hasFormula) this.uncachedFormulaCount += 1;
      return;
    }
    const text = this.displayValue(cell.type, cell.value, cell.style).trim();
    if (text !== '') {
      this.row.push({ column: cell.column, text });
    }
  }

  private displayValue(type: string, value: string, style: number): string {
    switch (type) {
      case 's':
        return this.sharedStrings[Number(value)] ?? '';
      case 'b':
        return value === '1' || value === 'true' ? 'TRUE' : 'FALSE';
      case 'str':
      case 'inlineStr':
      case 'e':
      case 'd':
        return value;
      default:
        return this.formatNumber(Number(value), style, value);
    }
  }

  private formatNumber(value: number, style: number, raw: string): string {
    if (!Number.isFinite(value)) {
      return raw;
    }
    const formatId = this.formats.styleFormats[style] ?? 0;
    const code = this.formats.customCodes.get(formatId);
    if (code !== undefined ? isDateFormatCode(code) : BUILT_IN_DATE_FORMATS.has(formatId)) {
      return formatSerialDate(value, this.date1904);
    }
    if (code !== undefined ? isPercentFormatCode(code) : BUILT_IN_PERCENT_FORMATS.has(formatId)) {
      return `${roundToExcelPrecision(value * 100)}%`;
    }
    return roundToExcelPrecision(value);
  }
}

/** Zero-based column of a cell reference such as `AB12` (AB = 27). */
function columnIndex(reference: string): number {
  let column = 0;
  for (const character of reference.toUpperCase()) {
    const code = character.charCodeAt(0);
    if (code < 65 || code > 90) break;
    column = column * 26 + (code - 64);
  }
  return Math.max(0, column - 1);
}

/** Removes quoted text, escaped characters and bracketed colours or conditions from a format code. */
function formatCodeTokens(code: string): string {
  return code.replace(/"[^"]*"|\\.|_.|\*./g, '').replace(/\[(?!h\]|hh\]|m\]|mm\]|s\]|ss\])[^\]]*\]/gi, '');
}

export function isDateFormatCode(code: string): boolean {
  const tokens = formatCodeTokens(code.split(';')[0]);
  return /[dmyhs]/i.test(tokens) && !/^general$/i.test(tokens.trim());
}

function isPercentFormatCode(code: string): boolean {
  return formatCodeTokens(code.split(';')[0]).includes('%');
}

/**
 * Writes a date serial as ISO 8601: `YYYY-MM-DD` for whole days, `HH:MM:SS` for times of
 * day below 1, both otherwise.
 */
export function formatSerialDate(serial: number, date1904: boolean): string {
  let epoch = date1904 ? EPOCH_1904_MS : EPOCH_1900_MS;
  if (!date1904 && serial < 60) {
    // Before the fictitious 1900-02-29, serial 1 is 1900-01-01.
    epoch += MS_PER_DAY;
  }
  // Rounded to whole seconds, because serials carry binary fractions such as 0.2565162037037037.
  const date = new Date(epoch + Math.round(serial * 86_400) * 1000);
  if (Number.isNaN(date.getTime())) {
    return String(serial);
  }
  const iso = date.toISOString();
  const time = iso.slice(11, 19);
  if (Math.abs(serial) < 1) {
    return time;
  }
  return Number.isInteger(serial) || time === '00:00:00' ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${time}`;
}

/** Writes a number with at most 15 significant digits, the precision Excel displays. */
export function roundToExcelPrecision(value: number): string {
  return String(Number(value.toPrecision(15)));
}
