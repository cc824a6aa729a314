import * as mammoth from 'mammoth';

import { InvalidInputError } from 'src/common/app-error';
import { ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import { renderHtml } from 'src/workers/collections/extraction/html-rendering';

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

/**
 * Extracts the body text of a DOCX file through mammoth's HTML output, which keeps headings,
 * lists, tables, footnotes and endnotes.
 * Limitation: mammoth reads only the main document part, so text in headers and footers is
 * not extracted.
 */
export async function extractDocx(data: Buffer, fileName: string): Promise<ExtractorResult> {
  rejectNonZipPackage(data, fileName);

  let result: Awaited<ReturnType<typeof mammoth.convertToHtml>>;
  // Limitation: mammoth unzips parts fully in memory, so a ZIP bomb is bounded only by the upload size limit and the timeout.
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
  return {
    parts: rendered.parts,
    title: firstTopHeading?.text,
    metadata: { conversion_warning_count: result.messages.length },
  };
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
