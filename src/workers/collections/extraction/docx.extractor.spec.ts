import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { InvalidInputError } from 'src/common/app-error';
import { DOCX } from 'src/workers/collections/extraction/content-type';
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
    const paths = document.segments.map((segment) => segment.metadata.heading_path);

    expect(paths).toEqual([
      ['Sample Word Document Title'],
      ['Main Heading'],
      ['Heading Level 1'],
      ['Heading Level 1', 'Heading Level 2'],
      ['Heading Level 1', 'Heading Level 2', 'Heading Level 3'],
    ]);
    const last = document.segments[document.segments.length - 1];
    expect(document.text.slice(last.start, last.end)).toMatch(/^Heading Level 3\n\nThis is a sample Microsoft Word Document\./);
    expect(last.end).toBe(document.text.length);
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
