import { AppError, InvalidInputError } from 'src/common/app-error';
import {
  canonicalContentType,
  contentTypeCharset,
  CSV,
  DOCX,
  HTML,
  MARKDOWN,
  PDF,
  PLAIN_TEXT,
  SUPPORTED_CONTENT_TYPES,
} from 'src/workers/collections/extraction/content-type';
import {
  detectContentType,
  EML,
  GZIP,
  JSON_TYPE,
  LOG,
  NDJSON,
  OUTLOOK_MSG,
  TAR,
  TSV,
  XML,
  ZIP,
} from 'src/workers/collections/extraction/content-type';
import { extractGzip, extractTar, extractZip } from 'src/workers/collections/extraction/archive.extractor';
import { ContainerBudget, resolveContainerLimits } from 'src/workers/collections/extraction/container-limits';
import { ContainerContext } from 'src/workers/collections/extraction/container-members';
import { extractCsv } from 'src/workers/collections/extraction/csv.extractor';
import { extractEmail } from 'src/workers/collections/extraction/email.extractor';
import { extractJson, extractNdjson } from 'src/workers/collections/extraction/json.extractor';
import { extractLog } from 'src/workers/collections/extraction/log.extractor';
import { extractOutlookMessage } from 'src/workers/collections/extraction/outlook-message.extractor';
import { extractXml } from 'src/workers/collections/extraction/xml.extractor';
import { assembleText } from 'src/workers/collections/extraction/document-assembly';
import { extractDocx } from 'src/workers/collections/extraction/docx.extractor';
import { DOC, DOCM, DOTX, EPUB, ODP, ODS, ODT, PPT, PPTX, RTF, XLS, XLSM, XLSX } from 'src/workers/collections/extraction/content-type';
import { extractEpub } from 'src/workers/collections/extraction/epub.extractor';
import { extractDoc, extractXls } from 'src/workers/collections/extraction/legacy-office.extractor';
import { extractOpenDocument } from 'src/workers/collections/extraction/opendocument.extractor';
import { extractPpt } from 'src/workers/collections/extraction/ppt.extractor';
import { extractPptx } from 'src/workers/collections/extraction/pptx.extractor';
import { extractRtf } from 'src/workers/collections/extraction/rtf.extractor';
import { extractXlsx } from 'src/workers/collections/extraction/xlsx.extractor';
import { ExtractionDeadline } from 'src/workers/collections/extraction/extraction-deadline';
import { textTooLargeError } from 'src/workers/collections/extraction/extraction-errors';
import {
  ExtractedDocument,
  ExtractOptions,
  ExtractorResult,
} from 'src/workers/collections/extraction/extraction.types';
import { extractHtml } from 'src/workers/collections/extraction/html.extractor';
import { extractMarkdown } from 'src/workers/collections/extraction/markdown.extractor';
import { extractPdf, PdfExtractionOptions } from 'src/workers/collections/extraction/pdf.extractor';
import { extractPlainText } from 'src/workers/collections/extraction/plain-text.extractor';
import { normalizeInlineText } from 'src/workers/collections/extraction/text-normalization';

export type { ExtractedDocument, ExtractOptions, TextSegment } from 'src/workers/collections/extraction/extraction.types';

export const DEFAULT_EXTRACTION_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_TEXT_CHARS = 20_000_000;
// Bytes of a container member that content type detection looks at.
const CONTENT_SNIFF_BYTES = 8192;

/** Options for tests and tooling on top of the public `ExtractOptions`. */
export interface InternalExtractOptions extends ExtractOptions {
  pdf?: PdfExtractionOptions;
  /** Nesting depth of this file inside the uploaded container: 0 for the upload itself. */
  containerDepth?: number;
  /** Entry and byte counters shared with the enclosing containers. Each upload gets a new one. */
  containerBudget?: ContainerBudget;
}

/**
 * Extracts normalised text from a document of a supported content type (see
 * `SUPPORTED_CONTENT_TYPES`). Every failure caused by the file is an `InvalidInputError`
 * whose `code` names it: `unsupported_content_type`, `empty_document`, `extraction_timeout`,
 * `text_too_large`, `pdf_encrypted`, `pdf_damaged`, `pdf_no_text_layer`, `docx_encrypted`,
 * `docx_not_ooxml` or `docx_damaged`.
 * Data formats add `json_invalid`, `ndjson_invalid` and `xml_invalid`; emails add `email_invalid`
 * and `msg_invalid`. Archives (ZIP, TAR, gzip) add `archive_damaged`, `archive_empty` and the
 * limit codes `archive_too_large`, `archive_too_many_entries`, `archive_too_deep` and
 * `archive_ratio_exceeded` (see `ExtractOptions.containerLimits`). Archive entries and email
 * attachments are extracted on their own into `children`, where a failed member carries its
 * code (such as `archive_entry_encrypted`) instead of failing the container.
 * Office and e-book formats add `<format>_damaged`, `<format>_encrypted` and, for ZIP-based
 * ones, `<format>_too_large` (format: `docx`, `xlsx`, `pptx`, `odt`, `ods`, `odp`, `epub`,
 * `doc`, `xls`, `ppt`), plus `xlsx_not_ooxml`, `pptx_not_ooxml`, `doc_unsupported_version`,
 * `xls_too_large` and `rtf_damaged`.
 */
export async function extractDocument(
  data: Buffer,
  fileName: string,
  contentType: string,
  options: InternalExtractOptions = {},
): Promise<ExtractedDocument> {
  const timeoutMs = positiveIntegerOption(options.timeoutMs, 'timeoutMs') ?? DEFAULT_EXTRACTION_TIMEOUT_MS;
  const maxTextChars = positiveIntegerOption(options.maxTextChars, 'maxTextChars') ?? DEFAULT_MAX_TEXT_CHARS;
  const canonicalType = canonicalContentType(contentType);

  if (!SUPPORTED_CONTENT_TYPES.includes(canonicalType)) {
    throw new InvalidInputError(
      'unsupported_content_type',
      `Content type "${contentType}" of "${fileName}" is not supported. Supported types are ${SUPPORTED_CONTENT_TYPES.join(', ')}.`,
      { file_name: fileName, content_type: contentType, supported: [...SUPPORTED_CONTENT_TYPES] },
    );
  }
  if (data.length === 0) {
    throw emptyDocumentError(fileName);
  }

  const deadline = new ExtractionDeadline(timeoutMs, fileName);
  const charset = contentTypeCharset(contentType);
  const container = createContainerContext(fileName, deadline, maxTextChars, options);
  const result = await deadline
    .race(runExtractor(canonicalType, data, { fileName, deadline, maxTextChars, charset, pdf: options.pdf, container }))
    .catch((error: unknown) => {
      throw asExtractionFailure(error, fileName);
    });
  deadline.throwIfExpired();

  const { text, segments } = assembleText(result);
  // A container such as an archive may have no text of its own when it has children.
  if (text.trim() === '' && !result.children?.length) {
    throw emptyDocumentError(fileName);
  }
  if (text.length > maxTextChars) {
    throw textTooLargeError(fileName, maxTextChars);
  }

  const title = result.title ? normalizeInlineText(result.title) : '';
  return {
    text,
    contentType: canonicalType,
    ...(title ? { title } : {}),
    segments,
    metadata: result.metadata,
    ...(result.children ? { children: result.children } : {}),
  };
}

interface ExtractorContext {
  fileName: string;
  deadline: ExtractionDeadline;
  maxTextChars: number;
  charset?: string;
  pdf?: PdfExtractionOptions;
  container: ContainerContext;
}

// Limitation: extractors run on the worker's event loop, so a data file of tens of MB (JSON, CSV)
// blocks it for seconds, delaying the other jobs and the health probes of that process.
async function runExtractor(contentType: string, data: Buffer, context: ExtractorContext): Promise<ExtractorResult> {
  switch (contentType) {
    case PLAIN_TEXT:
      return extractPlainText(data, context.charset);
    case MARKDOWN:
      return extractMarkdown(data, context.charset);
    case HTML:
      return extractHtml(data, context.charset);
    case PDF:
      return extractPdf(data, context, context.pdf);
    case DOCX:
    case DOCM:
    case DOTX:
      return extractDocx(data, context);
    case XLSX:
    case XLSM:
      return extractXlsx(data, context);
    case PPTX:
      return extractPptx(data, context);
    case ODT:
      return extractOpenDocument(data, 'text', context);
    case ODS:
      return extractOpenDocument(data, 'spreadsheet', context);
    case ODP:
      return extractOpenDocument(data, 'presentation', context);
    case EPUB:
      return extractEpub(data, context);
    case RTF:
      return extractRtf(data, context);
    case DOC:
      return extractDoc(data, context);
    case XLS:
      return extractXls(data, context);
    case PPT:
      return extractPpt(data, context);
    default:
      return runDataOrContainerExtractor(contentType, data, context);
  }
}

async function runDataOrContainerExtractor(
  contentType: string,
  data: Buffer,
  context: ExtractorContext,
): Promise<ExtractorResult> {
  switch (contentType) {
    case CSV:
      return extractCsv(data, { fileName: context.fileName, charset: context.charset });
    case TSV:
      return extractCsv(data, { fileName: context.fileName, charset: context.charset, delimiter: '\t' });
    case JSON_TYPE:
      return extractJson(data, context.fileName, context.charset);
    case NDJSON:
      return extractNdjson(data, context.fileName, context.charset);
    case XML:
      return extractXml(data, context.fileName, context.charset);
    case LOG:
      return extractLog(data, context.charset);
    case EML:
      return extractEmail(data, context.container);
    case OUTLOOK_MSG:
      return extractOutlookMessage(data, context.container);
    case ZIP:
      return extractZip(data, context.container);
    case TAR:
      return extractTar(data, context.container);
    case GZIP:
      return extractGzip(data, context.container);
    default:
      throw new Error(`No extractor is registered for supported content type ${contentType}`);
  }
}

/**
 * Builds the context that container extractors use to extract their members. Each member goes
 * through `extractDocument` one level deeper and shares this upload's budget and deadline.
 */
function createContainerContext(
  fileName: string,
  deadline: ExtractionDeadline,
  maxTextChars: number,
  options: InternalExtractOptions,
): ContainerContext {
  const budget = options.containerBudget ?? new ContainerBudget(resolveContainerLimits(options.containerLimits), fileName);
  const depth = options.containerDepth ?? 0;
  const nestedOptions = (): InternalExtractOptions => ({
    // The deadline may have just run out, and then the member fails its own first check.
    timeoutMs: Math.max(1, deadline.remainingMs()),
    maxTextChars,
    pdf: options.pdf,
    containerDepth: depth + 1,
    containerBudget: budget,
  });

  return {
    fileName,
    depth,
    budget,
    deadline,
    extractMember: (data, memberPath) => {
      const contentType = detectContentType(data.subarray(0, CONTENT_SNIFF_BYTES), memberPath);
      return extractDocument(data, `${fileName}/${memberPath}`, contentType, nestedOptions());
    },
    extractAs: (data, contentType, innerFileName) => {
      const canonicalType = canonicalContentType(contentType);
      if (!SUPPORTED_CONTENT_TYPES.includes(canonicalType)) {
        throw new InvalidInputError(
          'unsupported_content_type',
          `"${fileName}" holds "${innerFileName}" of content type "${contentType}", which is not supported. Supported types are ${SUPPORTED_CONTENT_TYPES.join(', ')}.`,
          { file_name: fileName, inner_file_name: innerFileName, content_type: contentType },
        );
      }
      const innerContainer = createContainerContext(innerFileName, deadline, maxTextChars, nestedOptions());
      return runExtractor(canonicalType, data, { fileName: innerFileName, deadline, maxTextChars, pdf: options.pdf, container: innerContainer });
    },
  };
}

function positiveIntegerOption(value: number | undefined, name: string): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`Extraction option ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function emptyDocumentError(fileName: string): InvalidInputError {
  return new InvalidInputError('empty_document', `Document "${fileName}" contains no text to index.`, {
    file_name: fileName,
  });
}

/**
 * Maps a plain exception from a parser to a failure of the file. Parsers work on the file's
 * bytes alone, so the same file fails the same way every time and a retry would not help.
 * A stack overflow on deeply nested markup is the typical case. Errors that are already
 * classified (`AppError`) keep their kind.
 */
function asExtractionFailure(error: unknown, fileName: string): unknown {
  if (error instanceof AppError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const tooComplex = error instanceof RangeError && /call stack/i.test(reason);
  return new InvalidInputError(
    tooComplex ? 'document_too_complex' : 'extraction_failed',
    tooComplex
      ? `"${fileName}" is nested too deeply to extract (${reason}); simplify its structure and upload it again.`
      : `Extracting "${fileName}" failed (${reason}).`,
    { file_name: fileName, reason },
    { cause: error },
  );
}
