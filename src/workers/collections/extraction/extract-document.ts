import { InvalidInputError } from 'src/common/app-error';
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
import { assembleText } from 'src/workers/collections/extraction/document-assembly';
import { extractDocx } from 'src/workers/collections/extraction/docx.extractor';
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

/** Options for tests and tooling on top of the public `ExtractOptions`. */
export interface InternalExtractOptions extends ExtractOptions {
  pdf?: PdfExtractionOptions;
}

/**
 * Extracts normalised text from a document of a supported content type (see
 * `SUPPORTED_CONTENT_TYPES`). Every failure caused by the file is an `InvalidInputError`
 * whose `code` names it: `unsupported_content_type`, `empty_document`, `extraction_timeout`,
 * `text_too_large`, `pdf_encrypted`, `pdf_damaged`, `pdf_no_text_layer`, `docx_encrypted`,
 * `docx_not_ooxml` or `docx_damaged`.
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
  const result = await deadline.race(
    runExtractor(canonicalType, data, { fileName, deadline, maxTextChars, charset, pdf: options.pdf }),
  );
  deadline.throwIfExpired();

  const { text, segments } = assembleText(result);
  if (text.trim() === '') {
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
  };
}

interface ExtractorContext {
  fileName: string;
  deadline: ExtractionDeadline;
  maxTextChars: number;
  charset?: string;
  pdf?: PdfExtractionOptions;
}

async function runExtractor(contentType: string, data: Buffer, context: ExtractorContext): Promise<ExtractorResult> {
  switch (contentType) {
    case PLAIN_TEXT:
    case CSV:
      return extractPlainText(data, context.charset);
    case MARKDOWN:
      return extractMarkdown(data, context.charset);
    case HTML:
      return extractHtml(data, context.charset);
    case PDF:
      return extractPdf(data, context, context.pdf);
    case DOCX:
      return extractDocx(data, context.fileName);
    default:
      throw new Error(`No extractor is registered for supported content type ${contentType}`);
  }
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
