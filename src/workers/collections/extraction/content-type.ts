import { filetypeinfo } from 'magic-bytes.js';

export const PDF = 'application/pdf';
export const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
export const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
// Macro-enabled and template variants of OOXML, lower-cased as `canonicalContentType` returns them.
export const DOCM = 'application/vnd.ms-word.document.macroenabled.12';
export const DOTX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.template';
export const XLSM = 'application/vnd.ms-excel.sheet.macroenabled.12';
export const ODT = 'application/vnd.oasis.opendocument.text';
export const ODS = 'application/vnd.oasis.opendocument.spreadsheet';
export const ODP = 'application/vnd.oasis.opendocument.presentation';
export const EPUB = 'application/epub+zip';
export const RTF = 'application/rtf';
export const DOC = 'application/msword';
export const XLS = 'application/vnd.ms-excel';
export const PPT = 'application/vnd.ms-powerpoint';
export const PLAIN_TEXT = 'text/plain';
export const MARKDOWN = 'text/markdown';
export const HTML = 'text/html';
export const CSV = 'text/csv';
export const JSON_TYPE = 'application/json';
export const OCTET_STREAM = 'application/octet-stream';
export const TSV = 'text/tab-separated-values';
export const NDJSON = 'application/x-ndjson';
export const XML = 'application/xml';
export const LOG = 'text/x-log';
export const EML = 'message/rfc822';
export const OUTLOOK_MSG = 'application/vnd.ms-outlook';
export const ZIP = 'application/zip';
export const TAR = 'application/x-tar';
export const GZIP = 'application/gzip';

// Structured text, email and archive types. Archives and emails yield their members as children.
const DATA_AND_CONTAINER_TYPES = [TSV, JSON_TYPE, NDJSON, XML, LOG, EML, OUTLOOK_MSG, ZIP, TAR, GZIP];
// Office, OpenDocument, EPUB and RTF types other than DOCX.
const OFFICE_DOCUMENT_TYPES = [DOCM, DOTX, XLSX, XLSM, PPTX, ODT, ODS, ODP, EPUB, RTF, DOC, XLS, PPT];
const OLE2 = 'application/x-ole-storage';

/** Canonical MIME types that `extractDocument` accepts. */
export const SUPPORTED_CONTENT_TYPES: readonly string[] = [PLAIN_TEXT, MARKDOWN, HTML, CSV, PDF, DOCX, ...DATA_AND_CONTAINER_TYPES, ...OFFICE_DOCUMENT_TYPES];

// Other spellings of the supported types that clients and browsers send.
const CONTENT_TYPE_ALIASES: Record<string, string> = {
  'text/x-markdown': MARKDOWN,
  'application/xhtml+xml': HTML,
  'application/x-pdf': PDF,
  'application/csv': CSV,
  'text/tsv': TSV,
  'text/xml': XML,
  'application/jsonl': NDJSON,
  'application/x-jsonlines': NDJSON,
  'application/x-zip-compressed': ZIP,
  'application/x-gzip': GZIP,
  'application/x-compressed-tar': GZIP,
  'application/x-gtar': TAR,
  'text/rtf': RTF,
  'application/x-rtf': RTF,
  'application/vnd.ms-word': DOC,
  'application/x-msexcel': XLS,
  'application/x-excel': XLS,
  'application/mspowerpoint': PPT,
  'application/x-mspowerpoint': PPT,
};

const TEXT_TYPES_BY_EXTENSION: Record<string, string> = {
  txt: PLAIN_TEXT,
  text: PLAIN_TEXT,
  log: LOG,
  md: MARKDOWN,
  markdown: MARKDOWN,
  html: HTML,
  htm: HTML,
  xhtml: HTML,
  csv: CSV,
  json: JSON_TYPE,
  xml: 'application/xml',
  tsv: 'text/tab-separated-values',
  ndjson: 'application/x-ndjson',
  jsonl: 'application/x-ndjson',
  // Email has no magic bytes but is not plain text: bodies and attachments are often base64.
  eml: 'message/rfc822',
  rtf: RTF,
};

const ZIP_TYPES_BY_EXTENSION: Record<string, string> = {
  docx: DOCX,
  xlsx: XLSX,
  pptx: PPTX,
  docm: DOCM,
  dotx: DOTX,
  xlsm: XLSM,
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation',
  epub: 'application/epub+zip',
  jar: 'application/java-archive',
};

const OLE2_TYPES_BY_EXTENSION: Record<string, string> = {
  doc: 'application/msword',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
  msg: 'application/vnd.ms-outlook',
};

// Part folders that name the kind of an OOXML package (ECMA-376 Part 2, default layout).
const OOXML_FOLDERS: [string, string][] = [
  ['word/', DOCX],
  ['xl/', XLSX],
  ['ppt/', PPTX],
];

const OOXML_EXTENSIONS = new Set(['docx', 'xlsx', 'pptx', 'docm', 'dotx', 'xlsm']);

// OOXML variants with the same part folders as their base type, recognised by extension.
const OOXML_VARIANTS: Record<string, string> = { docm: DOCX, dotx: DOCX, xlsm: XLSX };

// Stream names in an OLE2 directory, stored as UTF-16LE.
const OLE2_STREAMS: [Buffer, string][] = [
  [Buffer.from('WordDocument', 'utf16le'), 'application/msword'],
  [Buffer.from('Workbook', 'utf16le'), 'application/vnd.ms-excel'],
  [Buffer.from('PowerPoint Document', 'utf16le'), 'application/vnd.ms-powerpoint'],
  [Buffer.from('__substg1.0_', 'utf16le'), 'application/vnd.ms-outlook'],
];
const ENCRYPTED_PACKAGE_STREAM = Buffer.from('EncryptedPackage', 'utf16le');

// magic-bytes.js reports these for a leading byte order mark or a leading `{` or `[`. Such
// signatures are weak evidence, so text extensions take precedence over them.
const WEAK_SIGNATURES = new Set(['txt', 'Json']);

/**
 * Detects a MIME type from the first bytes of a file (8 KiB or more). Magic bytes decide
 * first. The file name extension only breaks ties, such as the kind of a ZIP or OLE2
 * container, or the kind of a text file, which has no magic bytes.
 */
export function detectContentType(head: Buffer, fileName: string): string {
  const extension = fileExtension(fileName);
  const guesses = filetypeinfo(head);
  const names = new Set(guesses.map((guess) => guess.typename));

  if (names.has('pdf')) {
    return PDF;
  }
  if (names.has('zip')) {
    return detectZipContainer(head, extension);
  }
  if (names.has('doc')) {
    return detectOle2Container(head, extension);
  }

  const strong = guesses.find((guess) => guess.mime && !WEAK_SIGNATURES.has(guess.typename));
  if (strong?.mime) {
    return strong.mime;
  }

  return detectTextType(head, extension, names.has('Json'));
}

/** Returns `mime` without parameters, lower-cased, with aliases resolved. */
export function canonicalContentType(mime: string): string {
  const bare = mime.split(';')[0].trim().toLowerCase();
  return CONTENT_TYPE_ALIASES[bare] ?? bare;
}

/** Returns the `charset` parameter of a Content-Type value, if any. */
export function contentTypeCharset(mime: string): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(mime)?.[1];
}

export function isSupportedContentType(mime: string): boolean {
  return SUPPORTED_CONTENT_TYPES.includes(canonicalContentType(mime));
}

function fileExtension(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

function detectTextType(head: Buffer, extension: string, startsLikeJson: boolean): string {
  const byExtension = TEXT_TYPES_BY_EXTENSION[extension];
  if (byExtension) {
    return byExtension;
  }

  const hasUtf16Bom = (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff);
  if (!hasUtf16Bom && head.includes(0)) {
    return OCTET_STREAM;
  }
  if (startsLikeJson) {
    return JSON_TYPE;
  }

  const start = head.subarray(0, 512).toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart().toLowerCase();
  if (start.startsWith('<!doctype html') || start.startsWith('<html')) {
    return HTML;
  }
  if (start.startsWith('{\\rtf')) {
    return RTF;
  }
  if (start.startsWith('<?xml')) {
    return TEXT_TYPES_BY_EXTENSION.xml;
  }
  return PLAIN_TEXT;
}

interface ZipEntryHeader {
  name: string;
  compressionMethod: number;
  compressedSize: number;
  /** Offset of the entry data in `head`. */
  dataStart: number;
}

/**
 * Tells ZIP-based formats apart. ODF and EPUB store an uncompressed `mimetype` entry, which
 * their specifications put first (ODF 1.2 Part 3, EPUB OCF), although some EPUB writers
 * place it later. An EPUB also has `META-INF/container.xml`. OOXML packages have
 * `[Content_Types].xml` and a part folder such as `word/`. Only entries whose local headers
 * start within `head` are seen.
 */
function detectZipContainer(head: Buffer, extension: string): string {
  const entries = readZipEntryHeaders(head);
  const names = entries.map((entry) => entry.name);

  const mimetypeEntry = entries.find((entry) => entry.name === 'mimetype');
  const declared = mimetypeEntry && readStoredMimetype(head, mimetypeEntry);
  if (declared) {
    return declared;
  }
  if (names.includes('META-INF/container.xml')) {
    return ZIP_TYPES_BY_EXTENSION.epub;
  }
  if (names.includes('[Content_Types].xml') || names.some((name) => name.startsWith('_rels/'))) {
    for (const [folder, mime] of OOXML_FOLDERS) {
      if (names.some((name) => name.startsWith(folder))) {
        return OOXML_VARIANTS[extension] === mime ? ZIP_TYPES_BY_EXTENSION[extension] : mime;
      }
    }
  }
  return ZIP_TYPES_BY_EXTENSION[extension] ?? ZIP;
}

/** Local file headers (signature `PK\x03\x04`, APPNOTE 4.3.7) that start within `head`. */
function readZipEntryHeaders(head: Buffer): ZipEntryHeader[] {
  const entries: ZipEntryHeader[] = [];
  let position = head.indexOf('PK\x03\x04', 0, 'latin1');
  while (position !== -1 && position + 30 <= head.length) {
    const nameLength = head.readUInt16LE(position + 26);
    const extraLength = head.readUInt16LE(position + 28);
    const nameEnd = position + 30 + nameLength;
    if (nameEnd > head.length) {
      break;
    }
    entries.push({
      name: head.subarray(position + 30, nameEnd).toString('utf8'),
      compressionMethod: head.readUInt16LE(position + 8),
      compressedSize: head.readUInt32LE(position + 18),
      dataStart: nameEnd + extraLength,
    });
    position = head.indexOf('PK\x03\x04', nameEnd, 'latin1');
  }
  return entries;
}

function readStoredMimetype(head: Buffer, entry: ZipEntryHeader): string | undefined {
  const stored = entry.compressionMethod === 0;
  if (!stored || entry.compressedSize === 0 || entry.compressedSize > 200) {
    return undefined;
  }
  const value = head.subarray(entry.dataStart, entry.dataStart + entry.compressedSize).toString('latin1').trim();
  return /^[a-z]+\/[a-z0-9.+-]+$/i.test(value) ? value.toLowerCase() : undefined;
}

/**
 * Tells OLE2 compound files apart. A password-protected OOXML file is an OLE2 file too. It
 * keeps the OOXML type of its extension, so that the DOCX extractor reports it as encrypted.
 */
function detectOle2Container(head: Buffer, extension: string): string {
  if (head.includes(ENCRYPTED_PACKAGE_STREAM)) {
    return OOXML_EXTENSIONS.has(extension) ? ZIP_TYPES_BY_EXTENSION[extension] : OLE2;
  }
  const byExtension = OLE2_TYPES_BY_EXTENSION[extension];
  if (byExtension) {
    return byExtension;
  }
  // NOTE: the directory can lie beyond `head`, so a file without a telling extension may be
  // reported as generic OLE2 storage even when it is a Word, Excel or PowerPoint file.
  for (const [stream, mime] of OLE2_STREAMS) {
    if (head.includes(stream)) {
      return mime;
    }
  }
  return OLE2;
}
