import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { InvalidInputError } from 'src/common/app-error';
import { DOC, XLS } from 'src/workers/collections/extraction/content-type';
import { extractDocument } from 'src/workers/collections/extraction/extract-document';

const readCorpus = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name));

async function extractionErrorCode(data: Buffer, name: string, contentType: string): Promise<string> {
  const error = await extractDocument(data, name, contentType).catch((caught: unknown) => caught);
  if (error instanceof InvalidInputError) {
    return error.code;
  }
  throw new Error(`extraction of ${name} did not fail with InvalidInputError: ${String(error)}`);
}

/** Copies a Word file and sets extra flag bits in the File Information Block of its WordDocument stream. */
function withFibFlags(name: string, ident: number, flags: number): Buffer {
  const data = Buffer.from(readCorpus(name));
  const fib = data.indexOf(Buffer.from([ident & 0xff, ident >> 8]));
  data.writeUInt16LE(data.readUInt16LE(fib + 0x0a) | flags, fib + 0x0a);
  return data;
}

describe('DOC extraction', () => {
  it('reads a Word 97 document with its header and footer', async () => {
    const name = 'doc-word97-nested-tables-headings.doc';
    const document = await extractDocument(readCorpus(name), name, DOC);
    const { text, segments } = document;

    expect(document.title).toBe('Sample Word Document');
    expect(document.metadata).toMatchObject({ author: 'Keith Bennett' });
    expect(segments.map((segment) => segment.metadata)).toEqual([{ header: true }, { footer: true }]);
    expect(text.startsWith('This is the header for our document\n\nSample Word Document Title\n')).toBe(true);
    expect(text.endsWith('\n\nThis is the footer for our document')).toBe(true);
    expect(text).toContain('This document includes text that is BOLD and ITALIC.');
    expect(text).toContain('Nested table\n\nMore of our nested table');
    expect(text).toContain('Apache Tika: http://tika.apache.org/ Tika');
    expect(text.indexOf('Heading Level 3')).toBeLessThan(text.indexOf('This is a sample Microsoft Word Document.'));
  });

  it('reads the text of a Word 6.0 document', async () => {
    const name = 'doc-word6-legacy-format.doc';
    const document = await extractDocument(readCorpus(name), name, DOC);

    expect(document.text).toBe('The quick brown fox jumps over the lazy dog');
    expect(document.metadata).toMatchObject({ word_version: '6.0/95', author: 'Nevin Nollop' });
  });

  it.each([
    ['a fast-saved Word 6 file', withFibFlags('doc-word6-legacy-format.doc', 0xa5dc, 0x0004), 'doc_unsupported_version'],
    ['an encrypted Word 6 file', withFibFlags('doc-word6-legacy-format.doc', 0xa5dc, 0x0100), 'doc_encrypted'],
    ['an encrypted Word 97 file', withFibFlags('doc-word97-nested-tables-headings.doc', 0xa5ec, 0x0100), 'doc_encrypted'],
    ['a Word 2.0 file', Buffer.concat([Buffer.from([0x9b, 0xa5, 0x21, 0x00]), Buffer.alloc(600)]), 'doc_unsupported_version'],
    ['a truncated file', readCorpus('doc-word97-nested-tables-headings.doc').subarray(0, 2048), 'doc_damaged'],
    ['a DOCX package', readCorpus('docx-nested-tables-bookmarks-header-footer.docx'), 'doc_damaged'],
    ['an encrypted OOXML file', readCorpus('docx-password-encrypted-ooxml.docx'), 'doc_damaged'],
    ['a PDF', readCorpus('pdf-missing-eof-marker.pdf'), 'doc_damaged'],
  ])('rejects %s', async (_description, data, code) => {
    await expect(extractionErrorCode(data, 'file.doc', DOC)).resolves.toBe(code);
  });
});

describe('XLS extraction', () => {
  it('returns sheets with formatted cells', async () => {
    const name = 'xls-three-sheets-numbers-and-squares.xls';
    const document = await extractDocument(readCorpus(name), name, XLS);

    expect(document.title).toBe('Simple Excel document');
    expect(document.metadata).toMatchObject({ sheet_count: 3 });
    expect(document.segments.map((segment) => segment.metadata)).toEqual([{ sheet: 'Feuil1' }]);
    expect(document.text).toContain('Feuil1\n\nSample Excel Worksheet - Numbers and their Squares\n| Number | Square\n| 1 | 1\n');
    expect(document.text).toContain('\n| 15 | 225\n');
  });

  it('keeps ragged rows and Greek letters', async () => {
    const name = 'xls-quiz-questions-greek-letters.xls';
    const document = await extractDocument(readCorpus(name), name, XLS);

    expect(document.segments.map((segment) => segment.metadata.sheet)).toEqual(['Example Test', 'Format Abbr.', 'Readme']);
    expect(document.text).toContain('MAT | Match the lower-case greek letter with its capital form. | λ | Λ | α | γ | Γ | φ | Φ');
    expect(document.text).toContain('\nTF | Bagpipes are awesome. | true\n');
    expect(document.text).toContain('http://www.cmu.edu/blackboard\nQuestion Format Abbreviations');
  });

  it.each([
    ['docx-password-encrypted-ooxml.docx', 'xls_encrypted'],
    ['docx-nested-tables-bookmarks-header-footer.docx', 'xls_damaged'],
    ['doc-word97-nested-tables-headings.doc', 'xls_damaged'],
    ['pdf-missing-eof-marker.pdf', 'xls_damaged'],
  ])('rejects %s with %s', async (name, code) => {
    await expect(extractionErrorCode(readCorpus(name), name, XLS)).resolves.toBe(code);
  });

  it('rejects a file above the size limit', async () => {
    await expect(extractionErrorCode(Buffer.alloc(33 * 1024 * 1024), 'huge.xls', XLS)).resolves.toBe('xls_too_large');
  });
});
