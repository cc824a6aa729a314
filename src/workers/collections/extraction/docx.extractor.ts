import * as mammoth from 'mammoth';

import { InvalidInputError } from 'src/common/app-error';
import { ExtractionDeadline } from 'src/workers/collections/extraction/extraction-deadline';
import { ExtractedPart, ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import { renderHtml } from 'src/workers/collections/extraction/html-rendering';
import { PackageFormat, Relationship, ZipPackage } from 'src/workers/collections/extraction/office-package';
import { localName, scanXml } from 'src/workers/collections/extraction/xml-scanner';

const OLE2_SIGNATURE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
const ZIP_LOCAL_HEADER = Buffer.from('PK\x03\x04', 'latin1');

// Office stores a password-protected OOXML file as an OLE2 compound file whose streams
// include "EncryptionInfo" and "EncryptedPackage" (MS-OFFCRYPTO); directory entry names are UTF-16LE.
const ENCRYPTED_PACKAGE_STREAM = Buffer.from('EncryptedPackage', 'utf16le');

// mammoth's default style map has no entry for Word's built-in Title and Subtitle styles.
// Title becomes a top-level heading so that it starts the heading path and names the document.
const STYLE_MAP = ["p[style-name='Title'] => h1:fresh", "p[style-name='Subtitle'] => p:fresh"];

// mammoth renders footnotes and endnotes at the end with a back link whose text is an arrow.
const SKIPPED_SELECTORS = ['a[href^="#footnote-ref"]', 'a[href^="#endnote-ref"]', 'a[href^="#comment-ref"]'];

const DOCX_FORMAT: PackageFormat = { label: 'DOCX', codePrefix: 'docx', application: 'the word processor' };

const RELATIONSHIP_TYPES = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/';
const OFFICE_DOCUMENT_RELATIONSHIP = `${RELATIONSHIP_TYPES}officeDocument`;

export interface DocxContext {
  fileName: string;
  deadline?: ExtractionDeadline;
}

/**
 * Extracts the text of a DOCX, DOCM or DOTX file. The body comes from mammoth's HTML output,
 * which keeps headings, lists, tables, footnotes, endnotes and text boxes. mammoth reads only
 * the main document part, so headers and footers are read from their own parts: header parts
 * come before the body (`{ header: true }`) and footer parts after it (`{ footer: true }`).
 * Fails with `docx_encrypted`, `docx_not_ooxml`, `docx_damaged` or `docx_too_large`.
 */
export async function extractDocx(data: Buffer, context: DocxContext): Promise<ExtractorResult> {
  const { fileName, deadline } = context;
  rejectNonZipPackage(data, fileName);

  await checkPartSizes(data, fileName);
  let result: Awaited<ReturnType<typeof mammoth.convertToHtml>>;
  try {
    result = await mammoth.convertToHtml(
      { buffer: data },
      {
        styleMap: STYLE_MAP,
        externalFileAccess: false,
        // Images are dropped from the text anyway; this skips base64-encoding them into the HTML.
        convertImage: mammoth.images.imgElement(async () => ({ src: '' })),
      },
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidInputError(
      'docx_damaged',
      `DOCX file "${fileName}" could not be read (${reason}). The file is damaged or truncated, so re-export it from the word processor.`,
      { file_name: fileName, reason },
      { cause: error },
    );
  }

  const rendered = renderHtml(result.value, { skipSelectors: SKIPPED_SELECTORS });
  const firstTopHeading = rendered.headings.find((heading) => heading.level === 1) ?? rendered.headings[0];
  const { headers, footers } = await extractHeadersAndFooters(data, fileName, deadline);
  return {
    parts: [...headers, ...rendered.parts, ...footers],
    title: firstTopHeading?.text,
    metadata: { conversion_warning_count: result.messages.length },
  };
}

/**
 * Reads the header and footer parts that the main document refers to, each once, in part
 * name order (`header1.xml`, `header2.xml`, ...). Parts whose text repeats an earlier one,
 * such as identical first-page and default headers, are left out.
 */
/**
 * Inflates every XML part through the bounded package reader before mammoth reads the file.
 * mammoth unzips parts fully in memory without limits, so a ZIP bomb (a small DOCX whose
 * document.xml inflates to gigabytes) must fail here, with `docx_too_large` or `docx_damaged`.
 */
async function checkPartSizes(data: Buffer, fileName: string): Promise<void> {
  const zip = await ZipPackage.open(data, fileName, DOCX_FORMAT);
  for (const name of zip.entryNames) {
    if (/\.(xml|rels)$/i.test(name)) await zip.readBytes(name);
  }
}

async function extractHeadersAndFooters(
  data: Buffer,
  fileName: string,
  deadline: ExtractionDeadline | undefined,
): Promise<{ headers: ExtractedPart[]; footers: ExtractedPart[] }> {
  const zip = await ZipPackage.open(data, fileName, DOCX_FORMAT);
  const packageRelationships = await zip.readRelationships('');
  const mainPart = packageRelationships.find((relationship) => relationship.type === OFFICE_DOCUMENT_RELATIONSHIP);
  if (!mainPart) {
    return { headers: [], footers: [] };
  }
  const relationships = await zip.readRelationships(mainPart.target);
  const seenTexts = new Set<string>();

  const readParts = async (kind: 'header' | 'footer'): Promise<ExtractedPart[]> => {
    const parts: ExtractedPart[] = [];
    for (const target of partTargets(relationships, `${RELATIONSHIP_TYPES}${kind}`)) {
      let text = '';
      await zip.scanPart(target, (xml) => {
        text = renderWordprocessingXml(xml, deadline);
      });
      const key = text.replace(/\s+/g, ' ').trim();
      if (key !== '' && !seenTexts.has(key)) {
        seenTexts.add(key);
        parts.push({ text, metadata: { [kind]: true } });
      }
    }
    return parts;
  };

  return { headers: await readParts('header'), footers: await readParts('footer') };
}

/** Distinct targets of one relationship type, in natural part name order. */
function partTargets(relationships: Relationship[], type: string): string[] {
  const targets = [...new Set(relationships.filter((relationship) => relationship.type === type).map((r) => r.target))];
  return targets.sort((left, right) => left.localeCompare(right, 'en', { numeric: true }));
}

interface TableState {
  /** Finished rows as blocks of text. */
  rows: string[];
  /** Paragraphs of each cell of the open row. */
  cells: string[][] | undefined;
  /** Paragraphs of the open cell. */
  cellParagraphs: string[] | undefined;
  /** True for a cell that continues a vertical merge, whose content Word does not show. */
  cellHidden: boolean;
}

// Elements whose content is not displayed text: the VML copy of a drawing that Word writes
// for old readers next to the DrawingML version (mc:Fallback), field instructions such as
// `PAGE \* MERGEFORMAT`, and text deleted in tracked changes.
const SKIPPED_ELEMENTS = new Set(['Fallback', 'instrText', 'delText', 'delInstrText']);

/**
 * Renders a WordprocessingML story part (header, footer) as plain text: one paragraph per
 * `w:p`, table rows as `cell | cell`, text boxes as their own paragraphs. Tables nested in a
 * cell become rows of that cell.
 */
export function renderWordprocessingXml(xml: string, deadline?: ExtractionDeadline): string {
  const blocks: string[] = [];
  const openParagraphs: string[] = [];
  const tables: TableState[] = [];
  let skipDepth = 0;
  let runDepth = 0;
  let inText = false;

  const append = (text: string): void => {
    if (openParagraphs.length > 0) {
      openParagraphs[openParagraphs.length - 1] += text;
    }
  };
  const finishBlock = (text: string): void => {
    const table = tables[tables.length - 1];
    if (table?.cellParagraphs) {
      if (!table.cellHidden) table.cellParagraphs.push(text);
    } else {
      blocks.push(text);
    }
  };

  scanXml(
    xml,
    {
      openElement: (name, attributes) => {
        const local = localName(name);
        if (skipDepth > 0 || SKIPPED_ELEMENTS.has(local)) {
          skipDepth += 1;
          return;
        }
        const table = tables[tables.length - 1];
        switch (local) {
          case 'p':
            openParagraphs.push('');
            break;
          case 'r':
            runDepth += 1;
            break;
          case 't':
            inText = true;
            break;
          case 'tab':
            if (runDepth > 0) append('\t');
            break;
          case 'br':
          case 'cr':
            if (runDepth > 0) append('\n');
            break;
          case 'noBreakHyphen':
            append('-');
            break;
          case 'tbl':
            tables.push({ rows: [], cells: undefined, cellParagraphs: undefined, cellHidden: false });
            break;
          case 'tr':
            if (table) table.cells = [];
            break;
          case 'tc':
            if (table) {
              table.cellParagraphs = [];
              table.cellHidden = false;
            }
            break;
          case 'vMerge':
            // A vMerge without val="restart" continues the merged cell above.
            if (table?.cellParagraphs && attributes['w:val'] !== 'restart') table.cellHidden = true;
            break;
        }
      },
      closeElement: (name) => {
        const local = localName(name);
        if (skipDepth > 0) {
          skipDepth -= 1;
          return;
        }
        const table = tables[tables.length - 1];
        switch (local) {
          case 'p':
            finishBlock(openParagraphs.pop() ?? '');
            break;
          case 'r':
            runDepth = Math.max(0, runDepth - 1);
            break;
          case 't':
            inText = false;
            break;
          case 'tc':
            if (table?.cellParagraphs && table.cells) {
              table.cells.push(table.cellParagraphs.map((text) => text.trim()).filter(Boolean));
            }
            if (table) table.cellParagraphs = undefined;
            break;
          case 'tr':
            if (table?.cells) table.rows.push(...renderTableRow(table.cells));
            if (table) table.cells = undefined;
            break;
          case 'tbl':
            tables.pop();
            if (table) table.rows.forEach(finishBlock);
            break;
        }
      },
      text: (text) => {
        if (inText && skipDepth === 0) append(text);
      },
    },
    deadline,
  );

  return blocks.filter((block) => block.trim() !== '').join('\n\n');
}

/**
 * Renders one table row as the HTML path does: `a | b | c` when every cell holds at most one
 * paragraph, else one block per cell paragraph, so that layout tables keep their paragraphs.
 */
function renderTableRow(cells: string[][]): string[] {
  const filled = cells.filter((paragraphs) => paragraphs.length > 0);
  if (filled.every((paragraphs) => paragraphs.length === 1)) {
    return filled.length > 0 ? [filled.map((paragraphs) => paragraphs[0]).join(' | ')] : [];
  }
  return filled.flat();
}

function rejectNonZipPackage(data: Buffer, fileName: string): void {
  if (data.subarray(0, OLE2_SIGNATURE.length).equals(OLE2_SIGNATURE)) {
    if (data.includes(ENCRYPTED_PACKAGE_STREAM)) {
      throw new InvalidInputError(
        'docx_encrypted',
        `DOCX file "${fileName}" is password-protected. Remove the password in the word processor and upload it again.`,
        { file_name: fileName },
      );
    }
    throw new InvalidInputError(
      'docx_not_ooxml',
      `File "${fileName}" is an OLE2 compound file (such as a Word 97-2003 .doc), not a DOCX package. Save it as .docx and upload it again.`,
      { file_name: fileName },
    );
  }

  if (!data.subarray(0, ZIP_LOCAL_HEADER.length).equals(ZIP_LOCAL_HEADER)) {
    throw new InvalidInputError(
      'docx_damaged',
      `DOCX file "${fileName}" is not a ZIP package, so it is damaged or is not a DOCX document.`,
      { file_name: fileName },
    );
  }
}
