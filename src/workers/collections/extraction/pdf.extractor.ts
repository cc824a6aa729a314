import { InvalidInputError, UnavailableError } from 'src/common/app-error';
import {
  ProcessOutputLimitError,
  ProcessResult,
  ProcessTimeoutError,
  runProcess,
} from 'src/workers/collections/extraction/child-process';
import { ExtractionDeadline } from 'src/workers/collections/extraction/extraction-deadline';
import { textTooLargeError } from 'src/workers/collections/extraction/extraction-errors';
import { ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import {
  extractPagesWithUnpdf,
  UnpdfFailure,
  UnpdfTextLimitError,
  UnpdfTimeoutError,
} from 'src/workers/collections/extraction/pdf-unpdf.fallback';

export interface PdfExtractionOptions {
  /** pdftotext executable; tests point it at a missing path to exercise the unpdf fallback. */
  pdftotextPath?: string;
  pdfinfoPath?: string;
}

interface PdfContext {
  fileName: string;
  deadline: ExtractionDeadline;
  maxTextChars: number;
}

interface PdfPages {
  pages: string[];
  metadata: Record<string, unknown>;
  /** Summary of what the parser reported on stderr, empty when it reported nothing. */
  diagnostics: string;
}

// UTF-8 needs at most 3 bytes per UTF-16 code unit, so stdout beyond this many bytes per
// allowed character contains more text than allowed before normalisation. pdftotext is stopped
// there, before it fills memory.
const STDOUT_BYTES_PER_CHAR = 3;

// Keys of `pdfinfo` output and of pdf.js `info` mapped to document metadata keys.
const PDFINFO_FIELDS: Record<string, string> = {
  Title: 'title',
  Author: 'author',
  Subject: 'subject',
  Keywords: 'keywords',
  Creator: 'creator',
  Producer: 'producer',
  CreationDate: 'creation_date',
  ModDate: 'modification_date',
};

/**
 * Extracts PDF text one part per page (`{ page: n }`). pdftotext from poppler runs first,
 * because its reading-order analysis keeps columns apart. When it is not installed, unpdf
 * (pdf.js) runs in a worker thread instead. Fails with `pdf_encrypted`, `pdf_damaged` or
 * `pdf_no_text_layer`, and never succeeds with empty text.
 */
export async function extractPdf(
  data: Buffer,
  context: PdfContext,
  options: PdfExtractionOptions = {},
): Promise<ExtractorResult> {
  let extracted: PdfPages;
  try {
    extracted = await extractWithPoppler(data, context, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw error;
    }
    extracted = await extractWithUnpdf(data, context);
  }

  const { pages, metadata, diagnostics } = extracted;
  const emptyPages = pages.flatMap((text, index) => (text.trim() === '' ? [index + 1] : []));
  if (emptyPages.length === pages.length) {
    throw noTextError(context.fileName, diagnostics);
  }

  const title = typeof metadata.title === 'string' && metadata.title.trim() !== '' ? metadata.title : undefined;
  return {
    parts: pages.map((text, index) => ({ text, metadata: { page: index + 1 } })),
    title,
    metadata: {
      ...metadata,
      page_count: pages.length,
      ...(emptyPages.length > 0 ? { pages_without_text: emptyPages } : {}),
    },
  };
}

async function extractWithPoppler(data: Buffer, context: PdfContext, options: PdfExtractionOptions): Promise<PdfPages> {
  const pdftotext = options.pdftotextPath ?? 'pdftotext';
  const pdfinfo = options.pdfinfoPath ?? 'pdfinfo';
  const timeoutMs = context.deadline.remainingMs();

  let textRun: ProcessResult;
  try {
    // Without -layout, pdftotext orders text by reading flow, so columns stay apart.
    // It writes a form feed after every page, and the code below splits pages there.
    textRun = await runProcess(pdftotext, ['-enc', 'UTF-8', '-eol', 'unix', '-', '-'], {
      input: data,
      timeoutMs,
      maxStdoutBytes: context.maxTextChars * STDOUT_BYTES_PER_CHAR,
    });
  } catch (error) {
    throw translateProcessError(error, context);
  }

  const diagnostics = summarizeStderr(textRun.stderr);
  if (textRun.exitCode !== 0) {
    throw popplerFailure(textRun, diagnostics, context.fileName);
  }

  const pages = textRun.stdout.toString('utf8').split('\f');
  // The form feed after the last page leaves an empty remainder behind it.
  if (pages.length > 1 && pages[pages.length - 1].trim() === '') {
    pages.pop();
  }

  const metadata = await readPdfinfo(pdfinfo, data, context);
  return { pages, metadata: { ...metadata, pdf_extractor: 'pdftotext' }, diagnostics };
}

/**
 * Reads document metadata with pdfinfo. Metadata is optional, so any pdfinfo failure
 * yields an empty record instead of failing the extraction.
 */
async function readPdfinfo(pdfinfo: string, data: Buffer, context: PdfContext): Promise<Record<string, unknown>> {
  let run: ProcessResult;
  try {
    run = await runProcess(pdfinfo, ['-enc', 'UTF-8', '-isodates', '-'], {
      input: data,
      timeoutMs: context.deadline.remainingMs(),
      maxStdoutBytes: 1024 * 1024,
    });
  } catch {
    return {};
  }
  if (run.exitCode !== 0) {
    return {};
  }

  const metadata: Record<string, unknown> = {};
  for (const line of run.stdout.toString('utf8').split('\n')) {
    const match = /^([A-Za-z ]+):\s*(.*)$/.exec(line);
    if (!match) continue;
    const [, key, rawValue] = match;
    const value = rawValue.trim();
    if (PDFINFO_FIELDS[key] && value !== '') {
      metadata[PDFINFO_FIELDS[key]] = value;
    } else if (key === 'Encrypted') {
      metadata.encrypted = value.startsWith('yes');
    }
  }
  return metadata;
}

async function extractWithUnpdf(data: Buffer, context: PdfContext): Promise<PdfPages> {
  try {
    const { pages, info } = await extractPagesWithUnpdf(data, context.deadline.remainingMs(), context.maxTextChars);
    const metadata: Record<string, unknown> = { pdf_extractor: 'unpdf' };
    for (const [key, name] of Object.entries(PDFINFO_FIELDS)) {
      const value = info[key];
      if (typeof value === 'string' && value.trim() !== '') {
        metadata[name] = key.endsWith('Date') ? (parsePdfDate(value) ?? value) : value.trim();
      }
    }
    return { pages, metadata, diagnostics: '' };
  } catch (error) {
    if (error instanceof UnpdfTimeoutError) {
      throw context.deadline.timeoutError();
    }
    if (error instanceof UnpdfTextLimitError) {
      throw textTooLargeError(context.fileName, context.maxTextChars);
    }
    if (error instanceof UnpdfFailure && error.exceptionName === 'PasswordException') {
      throw encryptedError(context.fileName);
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw damagedError(context.fileName, reason);
  }
}

function translateProcessError(error: unknown, context: PdfContext): unknown {
  if (error instanceof ProcessTimeoutError) {
    return context.deadline.timeoutError();
  }
  if (error instanceof ProcessOutputLimitError) {
    return textTooLargeError(context.fileName, context.maxTextChars);
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return error;
  }
  return new UnavailableError(
    'pdf_extractor_unavailable',
    `pdftotext could not be started (${code ?? String(error)}). Check the poppler-utils installation.`,
    { code },
    { cause: error },
  );
}

function popplerFailure(run: ProcessResult, diagnostics: string, fileName: string): InvalidInputError {
  // pdftotext exit codes (poppler 22): 1 = the PDF could not be opened, 3 = permission denied.
  if (/incorrect password/i.test(run.stderr) || run.exitCode === 3) {
    return encryptedError(fileName);
  }
  const reason = run.signal ? `pdftotext was killed by ${run.signal}` : diagnostics || `pdftotext exited with code ${run.exitCode}`;
  return damagedError(fileName, reason);
}

/** Distinct stderr lines, without the repeats poppler prints for each damaged object. */
function summarizeStderr(stderr: string): string {
  const lines = [...new Set(stderr.split('\n').map((line) => line.trim()).filter((line) => line !== ''))];
  const summary = lines.slice(0, 5).join('; ');
  return summary.length > 500 ? `${summary.slice(0, 497)}...` : summary;
}

function noTextError(fileName: string, diagnostics: string): InvalidInputError {
  // Poppler prints "Syntax Error" for objects it could not parse. With no text at all, that
  // points to a damaged file rather than a scan.
  if (/Syntax Error/.test(diagnostics)) {
    return damagedError(fileName, `no text could be read, and poppler reported: ${diagnostics}`);
  }
  return new InvalidInputError(
    'pdf_no_text_layer',
    `PDF "${fileName}" has no text layer (for example a scanned document), so it needs OCR before its text can be indexed.`,
    { file_name: fileName },
  );
}

function encryptedError(fileName: string): InvalidInputError {
  return new InvalidInputError(
    'pdf_encrypted',
    `PDF "${fileName}" is encrypted and needs a password to open. Remove the password and upload it again.`,
    { file_name: fileName },
  );
}

function damagedError(fileName: string, reason: string): InvalidInputError {
  return new InvalidInputError(
    'pdf_damaged',
    `PDF "${fileName}" is damaged or not a PDF and could not be read: ${reason}`,
    { file_name: fileName, reason },
  );
}

/** Converts a PDF date string (`D:YYYYMMDDHHmmSS+HH'mm'`, fields optional after the year) to ISO 8601. */
function parsePdfDate(value: string): string | undefined {
  const match = /^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(Z|[+-]\d{2}'?\d{2}'?)?/.exec(value.trim());
  if (!match) {
    return undefined;
  }
  const [, year, month = '01', day = '01', hour = '00', minute = '00', second = '00', zone] = match;
  const offset = !zone || zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.replace(/'/g, '').slice(3, 5) || '00'}`;
  return `${year}-${month}-${day}T${hour}:${minute}:${second}${offset}`;
}
