import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { InvalidInputError } from 'src/common/app-error';
import { DOCM, DOCX, DOTX } from 'src/workers/collections/extraction/content-type';
import { extractDocument } from 'src/workers/collections/extraction/extract-document';

const readCorpus = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name));

async function extractionErrorCode(name: string): Promise<string> {
  const error = await extractDocument(readCorpus(name), name, DOCX).catch((caught: unknown) => caught);
  if (error instanceof InvalidInputError) {
    return error.code;
  }
  throw new Error(`extraction of ${name} did not fail with InvalidInputError: ${String(error)}`);
}

describe('DOCX extraction', () => {
  it('keeps headings, paragraphs and nested tables', async () => {
    const document = await extractDocument(readCorpus('docx-nested-tables-bookmarks-header-footer.docx'), 'word.docx', DOCX);

    expect(document.title).toBe('Sample Word Document Title');
    expect(document.text).toContain('\n\nMain Heading\n\nHeading Level 1\n\nHeading Level 2\n\nHeading Level 3\n\n');
    expect(document.text).toContain('This document includes text that is BOLD and ITALIC.');
    expect(document.text).toContain('Nested table');
    expect(document.text).toContain('More of our nested table');
    expect(document.text).toContain('Apache Tika: http://tika.apache.org/ Tika');
    expect(document.text).not.toMatch(/\n{3,}/);
  });

  it('returns heading paths as segments', async () => {
    const document = await extractDocument(readCorpus('docx-nested-tables-bookmarks-header-footer.docx'), 'word.docx', DOCX);
    const bodySegments = document.segments.filter((segment) => segment.metadata.heading_path);
    const paths = bodySegments.map((segment) => segment.metadata.heading_path);

    expect(paths).toEqual([
      ['Sample Word Document Title'],
      ['Main Heading'],
      ['Heading Level 1'],
      ['Heading Level 1', 'Heading Level 2'],
      ['Heading Level 1', 'Heading Level 2', 'Heading Level 3'],
    ]);
    const last = bodySegments[bodySegments.length - 1];
    expect(document.text.slice(last.start, last.end)).toMatch(/^Heading Level 3\n\nThis is a sample Microsoft Word Document\./);
  });

  it('puts the header before the body and the footer after it', async () => {
    const document = await extractDocument(readCorpus('docx-nested-tables-bookmarks-header-footer.docx'), 'word.docx', DOCX);
    const first = document.segments[0];
    const last = document.segments[document.segments.length - 1];

    expect(first.metadata).toEqual({ header: true });
    expect(document.text.slice(first.start, first.end)).toBe('This is the header for our document');
    expect(last.metadata).toEqual({ footer: true });
    expect(document.text.slice(last.start, last.end)).toBe('This is the footer for our document');
    expect(last.end).toBe(document.text.length);
  });

  it('reads tables inside headers and footers', async () => {
    const document = await extractDocument(readCorpus('docx-tables-inside-header-and-footer.docx'), 'hdrftr.docx', DOCX);
    const { text } = document;

    expect(text).toContain('First header para\n\nTable cell1 | Table cell2\n\nLast header para');
    expect(text).toContain('para1\n\ncell1\n\na\n\nb | c\n\nd | e\n\nf\n\npara2');
    expect(text.indexOf('Last header para')).toBeLessThan(text.indexOf('Main document'));
    expect(text.indexOf('Main document')).toBeLessThan(text.indexOf('para1'));
    expect(document.segments.map((segment) => segment.metadata)).toEqual([{ header: true }, { footer: true }]);
  });

  it('skips cells that continue a vertical merge', async () => {
    const document = await extractDocument(readCorpus('docx-tables-inside-header-and-footer.docx'), 'hdrftr.docx', DOCX);

    expect(document.text).not.toContain('I should not be included');
  });

  it('keeps a text box once, not again from its VML copy', async () => {
    const document = await extractDocument(
      readCorpus('docx-textbox-footnote-header-footer-lists-japanese.docx'),
      'various.docx',
      DOCX,
    );

    expect(document.text.split('Here is a text box')).toHaveLength(2);
    expect(document.text.startsWith('This is the header text.')).toBe(true);
  });

  it.each([DOCM, DOTX])('accepts the %s variant', async (contentType) => {
    const document = await extractDocument(readCorpus('docx-nested-tables-bookmarks-header-footer.docx'), 'word.docm', contentType);

    expect(document.contentType).toBe(contentType);
    expect(document.text).toContain('This is a sample Microsoft Word Document.');
  });

  it('extracts Japanese and astral-plane text, lists and footnotes', async () => {
    const document = await extractDocument(
      readCorpus('docx-textbox-footnote-header-footer-lists-japanese.docx'),
      'various.docx',
      DOCX,
    );

    expect(document.text).toContain('ゾルゲと尾崎、淡々と最期');
    expect(document.text).toContain('𐌲𐌿𐍄𐌹𐍃𐌺');
    expect(document.text).toContain('- Bullet 1\n- Bullet 2');
    expect(document.text).toContain('Row 1 Col 1 | Row 1 Col 2 | Row 1 Col 3');
    expect(document.text).toContain('This is a footnote.');
    expect(document.text).not.toContain('↑');
  });

  it.each([
    ['docx-password-encrypted-ooxml.docx', 'docx_encrypted'],
    ['docx-truncated-zip.docx', 'docx_damaged'],
    ['doc-word97-nested-tables-headings.doc', 'docx_not_ooxml'],
    ['pdf-missing-eof-marker.pdf', 'docx_damaged'],
  ])('rejects %s with %s', async (name, code) => {
    await expect(extractionErrorCode(name)).resolves.toBe(code);
  });
});
