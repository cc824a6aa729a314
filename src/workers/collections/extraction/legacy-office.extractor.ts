import * as iconv from 'iconv-lite';
import { Worker } from 'node:worker_threads';

import { InvalidInputError } from 'src/common/app-error';
import {
  CompoundFile,
  CompoundFileError,
  OLE2_SIGNATURE,
  readSummaryInformation,
} from 'src/workers/collections/extraction/compound-file';
import { ExtractionDeadline } from 'src/workers/collections/extraction/extraction-deadline';
import { textTooLargeError } from 'src/workers/collections/extraction/extraction-errors';
import { ExtractedPart, ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import {
  formatSpreadsheetRows,
  renderSpreadsheetRow,
  SpreadsheetCells,
  SpreadsheetRow,
} from 'src/workers/collections/extraction/spreadsheet-rows';

export interface LegacyOfficeContext {
  fileName: string;
  deadline: ExtractionDeadline;
  maxTextChars: number;
}

/** The part of the word-extractor 1.0 API used here, because the package ships no type declarations. */
interface WordExtractorDocument {
  getBody(options?: { filterUnicode?: boolean }): string;
  getFootnotes(options?: { filterUnicode?: boolean }): string;
  getEndnotes(options?: { filterUnicode?: boolean }): string;
  getHeaders(options?: { filterUnicode?: boolean; includeFooters?: boolean }): string;
  getFooters(options?: { filterUnicode?: boolean }): string;
  getAnnotations(options?: { filterUnicode?: boolean }): string;
  getTextboxes(options?: { filterUnicode?: boolean; includeHeadersAndFooters?: boolean; includeBody?: boolean }): string;
}

type WordExtractorClass = new () => { extract(source: Buffer): Promise<WordExtractorDocument> };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const WordExtractor = require('word-extractor') as WordExtractorClass;

const ZIP_SIGNATURE = Buffer.from('PK\x03\x04', 'latin1');

// File Information Block of the WordDocument stream (MS-DOC FibBase, which starts the Word 6 FIB too).
const WORD_IDENT = 0xa5ec;
const WORD6_IDENT = 0xa5dc;
// nFib of Word 97. Word 6.0 and Word 95 files have 101 to 105.
const WORD97_NFIB = 193;
const FIB_FLAG_COMPLEX = 0x0004;
const FIB_FLAG_ENCRYPTED = 0x0100;
// Offsets of fcMin and ccpText in the Word 6 FIB.
const WORD6_FC_MIN = 0x18;
const WORD6_CCP_TEXT = 0x34;

// Windows code pages of the languages whose Word 6 documents use one other than windows-1252,
// by language id (LCID). Word 6 stores 8-bit text in the code page of the document language.
const WORD6_LANGUAGE_CODE_PAGES: Record<number, string> = {
  0x0402: 'windows-1251',
  0x0405: 'windows-1250',
  0x0408: 'windows-1253',
  0x040d: 'windows-1255',
  0x040e: 'windows-1250',
  0x0415: 'windows-1250',
  0x0418: 'windows-1250',
  0x0419: 'windows-1251',
  0x041a: 'windows-1250',
  0x041b: 'windows-1250',
  0x041f: 'windows-1254',
  0x0422: 'windows-1251',
  0x0423: 'windows-1251',
  0x0424: 'windows-1250',
  0x0425: 'windows-1257',
  0x0426: 'windows-1257',
  0x0427: 'windows-1257',
  0x0401: 'windows-1256',
};

// SheetJS builds the whole workbook as JavaScript objects, many times the file size, so it
// only reads files up to this size, in a worker thread whose heap is capped.
// NOTE: both limits are judgement values, not measured ones, so raise them together.
const MAX_XLS_BYTES = 32 * 1024 * 1024;
const XLS_WORKER_HEAP_MB = 1024;

/**
 * Extracts a Word 97-2003 document with word-extractor: headers first (`{ header: true }`),
 * the body, then text boxes, footnotes, endnotes and comments (`{ text_boxes: true }`,
 * `{ footnotes: true }`, `{ endnotes: true }`, `{ comments: true }`) and footers
 * (`{ footer: true }`). Word 6.0 and Word 95 files that were not fast-saved are read
 * directly, body text only.
 * Fails with `doc_encrypted`, `doc_unsupported_version` (Word 2 and older, fast-saved Word 6
 * or 95) or `doc_damaged`.
 */
export async function extractDoc(data: Buffer, context: LegacyOfficeContext): Promise<ExtractorResult> {
  const { fileName } = context;
  const compoundFile = openCompoundFile(data, fileName, 'doc', 'Word', 'Word 97-2003 document');
  const wordDocument = compoundFile.readStream('WordDocument');
  if (!wordDocument || wordDocument.length < 0x40) {
    throw legacyDamagedError('doc', 'Word', fileName, 'the "WordDocument" stream is missing');
  }

  const ident = wordDocument.readUInt16LE(0);
  const nFib = wordDocument.readUInt16LE(2);
  const flags = wordDocument.readUInt16LE(0x0a);
  if (ident !== WORD_IDENT && ident !== WORD6_IDENT) {
    throw unsupportedWordVersionError(fileName, `its File Information Block has the unknown identifier 0x${ident.toString(16)}`);
  }
  if (flags & FIB_FLAG_ENCRYPTED) {
    throw new InvalidInputError(
      'doc_encrypted',
      `Word document "${fileName}" is password-protected. Remove the password in the word processor and upload it again.`,
      { file_name: fileName },
    );
  }

  const { title, author } = readSummaryInformation(compoundFile);
  const metadata = { ...(author ? { author } : {}) };
  if (nFib < WORD97_NFIB) {
    const text = readWord6Text(wordDocument, flags, fileName);
    return { parts: [{ text, metadata: {} }], title, metadata: { ...metadata, word_version: '6.0/95' } };
  }

  let document: WordExtractorDocument;
  try {
    document = await new WordExtractor().extract(data);
  } catch (error) {
    throw legacyDamagedError('doc', 'Word', fileName, error instanceof Error ? error.message : String(error), error);
  }

  const options = { filterUnicode: false };
  const stories: [string, Record<string, unknown>][] = [
    [document.getHeaders({ ...options, includeFooters: false }), { header: true }],
    [document.getBody(options), {}],
    [document.getTextboxes({ ...options, includeHeadersAndFooters: false, includeBody: true }), { text_boxes: true }],
    [document.getFootnotes(options), { footnotes: true }],
    [document.getEndnotes(options), { endnotes: true }],
    [document.getAnnotations(options), { comments: true }],
    [document.getFooters(options), { footer: true }],
  ];
  const parts = stories.map(([text, partMetadata]) => ({ text, metadata: partMetadata }));
  rejectTooMuchText(parts, context);
  return { parts, title, metadata };
}

/**
 * Reads the main text of a Word 6.0 or Word 95 document, which is stored in one run of 8-bit
 * characters unless the file was fast-saved.
 */
function readWord6Text(wordDocument: Buffer, flags: number, fileName: string): string {
  if (flags & FIB_FLAG_COMPLEX) {
    throw unsupportedWordVersionError(fileName, 'it is a fast-saved Word 6.0 or Word 95 document');
  }
  const start = wordDocument.readUInt32LE(WORD6_FC_MIN);
  const length = wordDocument.readInt32LE(WORD6_CCP_TEXT);
  if (length < 0 || start + length > wordDocument.length) {
    throw legacyDamagedError('doc', 'Word', fileName, 'the text range of the Word 6 document lies outside the file');
  }
  // NOTE: Far East editions of Word 6 and 95 may store 16-bit text, which this reads as 8-bit.
  const codePage = WORD6_LANGUAGE_CODE_PAGES[wordDocument.readUInt16LE(6)] ?? 'windows-1252';
  // Control characters of the Word 6 text stream: 0x0D ends a paragraph, 0x0B breaks a line,
  // 0x07 ends a table cell, and 0x13/0x14/0x15 delimit field codes.
  return iconv
    .decode(wordDocument.subarray(start, start + length), codePage)
    .replace(/\x13[^\x13\x14\x15]*\x14?/g, '')
    .replace(/\x15/g, '')
    .replace(/\x07/g, '\t')
    .replace(/\r/g, '\n\n')
    .replace(/\x0b/g, '\n');
}

type XlsWorkerReply =
  | {
      kind: 'ok';
      sheets: { name: string; hidden: boolean; rows: SpreadsheetCells[] }[];
      title?: string;
      author?: string;
    }
  | { kind: 'error'; message: string };

// The worker is plain JavaScript so it runs the same under ts-jest and from the build output.
// It converts each sheet to rows of formatted cell text (`w`), which SheetJS computes from the
// cell's number format.
const XLS_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
try {
  const XLSX = require(workerData.xlsxPath);
  const workbook = XLSX.read(workerData.data, {
    type: 'buffer', dense: true, cellFormula: false, cellHTML: false, cellStyles: false, bookVBA: false,
  });
  const sheetInfo = (workbook.Workbook && workbook.Workbook.Sheets) || [];
  const sheets = workbook.SheetNames.map((name, index) => {
    const rows = XLSX.utils.sheet_to_json(workbook.Sheets[name], { header: 1, raw: false, defval: null, blankrows: false })
      .map((cells) => cells.flatMap((text, column) => (text === null || String(text).trim() === '' ? [] : [{ column, text: String(text).trim() }])))
      .filter((row) => row.length > 0);
    return { name, hidden: Boolean(sheetInfo[index] && sheetInfo[index].Hidden), rows };
  });
  const props = workbook.Props || {};
  parentPort.postMessage({ kind: 'ok', sheets, title: props.Title, author: props.Author });
} catch (error) {
  parentPort.postMessage({ kind: 'error', message: String((error && error.message) || error) });
}
`;

/**
 * Extracts an Excel 97-2003 (BIFF8) or Excel 5/95 workbook with SheetJS: one part per sheet
 * (`{ sheet: name }`, `hidden: true` for hidden sheets), rows as `cell | cell` lines of the
 * formatted cell values, formulas as their cached results.
 * Fails with `xls_encrypted`, `xls_too_large`, `xls_damaged`, `extraction_timeout` or `text_too_large`.
 * Limitation: SheetJS Community Edition 0.18.5, the last release on the npm registry, has
 * known vulnerabilities for crafted files: prototype pollution (CVE-2023-30533, fixed in
 * 0.19.3) and a regular expression denial of service (CVE-2024-22363, fixed in 0.20.2).
 * It therefore only reads files up to `MAX_XLS_BYTES`, in a worker thread that has its own
 * prototypes and heap cap and is terminated at the extraction deadline.
 */
export async function extractXls(data: Buffer, context: LegacyOfficeContext): Promise<ExtractorResult> {
  const { fileName } = context;
  if (data.length > MAX_XLS_BYTES) {
    throw new InvalidInputError(
      'xls_too_large',
      `Excel file "${fileName}" is ${data.length} bytes, more than the ${MAX_XLS_BYTES} bytes accepted for the legacy .xls format. Save it as .xlsx and upload that.`,
      { file_name: fileName, size: data.length, max_bytes: MAX_XLS_BYTES },
    );
  }
  openCompoundFile(data, fileName, 'xls', 'Excel', 'Excel 97-2003 workbook');

  const reply = await runXlsWorker(data, context);
  if (reply.kind === 'error') {
    if (/password/i.test(reply.message)) {
      throw new InvalidInputError(
        'xls_encrypted',
        `Excel file "${fileName}" is password-protected. Remove the password in the spreadsheet application and upload it again.`,
        { file_name: fileName },
      );
    }
    throw legacyDamagedError('xls', 'Excel', fileName, reply.message);
  }

  const parts: ExtractedPart[] = reply.sheets.map((sheet) => ({
    text: formatSpreadsheetRows(
      sheet.name,
      sheet.rows.map(renderSpreadsheetRow).filter((row): row is SpreadsheetRow => row !== undefined),
    ),
    metadata: { sheet: sheet.name, ...(sheet.hidden ? { hidden: true } : {}) },
  }));
  rejectTooMuchText(parts, context);
  const hiddenSheets = reply.sheets.filter((sheet) => sheet.hidden).map((sheet) => sheet.name);
  return {
    parts,
    title: reply.title,
    metadata: {
      sheet_count: reply.sheets.length,
      ...(hiddenSheets.length > 0 ? { hidden_sheets: hiddenSheets } : {}),
      ...(reply.author ? { author: reply.author } : {}),
    },
  };
}

function runXlsWorker(data: Buffer, context: LegacyOfficeContext): Promise<XlsWorkerReply> {
  const xlsxPath = require.resolve('xlsx');
  return new Promise<XlsWorkerReply>((resolve, reject) => {
    const worker = new Worker(XLS_WORKER_SOURCE, {
      eval: true,
      workerData: { xlsxPath, data },
      resourceLimits: { maxOldGenerationSizeMb: XLS_WORKER_HEAP_MB },
    });
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      outcome();
    };

    const timer = setTimeout(() => finish(() => reject(context.deadline.timeoutError())), context.deadline.remainingMs());
    worker.on('message', (reply: XlsWorkerReply) => finish(() => resolve(reply)));
    worker.on('error', (error: NodeJS.ErrnoException) => {
      finish(() => {
        if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
          reject(
            new InvalidInputError(
              'xls_too_large',
              `Excel file "${context.fileName}" needs more than ${XLS_WORKER_HEAP_MB} MiB of memory to read. Save it as .xlsx and upload that.`,
              { file_name: context.fileName },
            ),
          );
        } else {
          resolve({ kind: 'error', message: error.message });
        }
      });
    });
    worker.on('exit', (code) => finish(() => resolve({ kind: 'error', message: `the reader exited with code ${code}` })));
  });
}

/** Opens an OLE2 compound file, or fails with `<prefix>_damaged` naming what the file is instead. */
function openCompoundFile(data: Buffer, fileName: string, prefix: string, program: string, kind: string): CompoundFile {
  if (!data.subarray(0, OLE2_SIGNATURE.length).equals(OLE2_SIGNATURE)) {
    if (prefix === 'doc' && isWord2File(data)) {
      throw unsupportedWordVersionError(fileName, 'it is a Word 2.0 or older document');
    }
    const reason = data.subarray(0, ZIP_SIGNATURE.length).equals(ZIP_SIGNATURE)
      ? `it is a ZIP package, such as an Office Open XML file, not a ${kind}`
      : `it is not an OLE2 compound file, so it is not a ${kind}`;
    throw legacyDamagedError(prefix, program, fileName, reason);
  }
  try {
    return new CompoundFile(data);
  } catch (error) {
    if (error instanceof CompoundFileError) {
      throw legacyDamagedError(prefix, program, fileName, error.message, error);
    }
    throw error;
  }
}

/** Word for Windows 1.x and 2.0 files have no OLE2 container and start with wIdent 0xA59B, 0xA59C or 0xA5DB. */
function isWord2File(data: Buffer): boolean {
  return data.length >= 2 && [0xa59b, 0xa59c, 0xa5db].includes(data.readUInt16LE(0));
}

function rejectTooMuchText(parts: ExtractedPart[], context: LegacyOfficeContext): void {
  const total = parts.reduce((sum, part) => sum + part.text.length, 0);
  if (total > context.maxTextChars) {
    throw textTooLargeError(context.fileName, context.maxTextChars);
  }
}

function unsupportedWordVersionError(fileName: string, reason: string): InvalidInputError {
  return new InvalidInputError(
    'doc_unsupported_version',
    `Word document "${fileName}" cannot be read because ${reason}. Open it in a current word processor, save it as .docx and upload that.`,
    { file_name: fileName, reason },
  );
}

function legacyDamagedError(prefix: string, program: string, fileName: string, reason: string, cause?: unknown): InvalidInputError {
  return new InvalidInputError(
    `${prefix}_damaged`,
    `${program} file "${fileName}" could not be read (${reason}). The file is damaged or has the wrong type, so open it in ${program}, save it as a current format and upload that.`,
    { file_name: fileName, reason },
    cause === undefined ? undefined : { cause },
  );
}
