import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { InvalidInputError } from 'src/common/app-error';
import { EPUB } from 'src/workers/collections/extraction/content-type';
import { extractDocument } from 'src/workers/collections/extraction/extract-document';
import { buildStoredZip } from 'src/workers/collections/extraction/stored-zip.fixture';

const readCorpus = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name));

async function extractionErrorCode(data: Buffer, name: string): Promise<string> {
  const error = await extractDocument(data, name, EPUB).catch((caught: unknown) => caught);
  if (error instanceof InvalidInputError) {
    return error.code;
  }
  throw new Error(`extraction of ${name} did not fail with InvalidInputError: ${String(error)}`);
}

const CONTAINER =
  '<container><rootfiles><rootfile full-path="OEBPS/book.opf" media-type="application/oebps-package+xml"/></rootfiles></container>';

function buildEpub(extraEntries: Record<string, string> = {}): Buffer {
  return buildStoredZip({
    mimetype: 'application/epub+zip',
    'META-INF/container.xml': CONTAINER,
    'OEBPS/book.opf':
      '<package xmlns:dc="dc"><metadata><dc:title>Small Book</dc:title></metadata><manifest>' +
      '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>' +
      '<item id="c1" href="text/one.xhtml" media-type="application/xhtml+xml"/>' +
      '<item id="notes" href="text/notes.xhtml" media-type="application/xhtml+xml"/></manifest>' +
      '<spine><itemref idref="notes" linear="no"/><itemref idref="c1"/></spine></package>',
    'OEBPS/nav.xhtml':
      '<html><body><nav><ol><li><a href="text/one.xhtml#start">Opening Chapter</a></li></ol></nav></body></html>',
    'OEBPS/text/one.xhtml': '<html><body><p>First words.</p><h2>Part A</h2><p>Part text.</p></body></html>',
    'OEBPS/text/notes.xhtml': '<html><body><p>A side note.</p></body></html>',
    ...extraEntries,
  });
}

describe('EPUB extraction', () => {
  it('returns chapters in spine order with their table of contents titles', async () => {
    const name = 'epub-two-chapters-toc.epub';
    const document = await extractDocument(readCorpus(name), name, EPUB);

    expect(document.title).toBe('An ePub for Tika');
    expect(document.metadata).toMatchObject({ chapter_count: 3, author: 'Bart Hanssens', language: 'en' });
    expect(document.segments.map((segment) => segment.metadata)).toEqual([
      { chapter: 1, title: 'Table of Contents', heading_path: ['Table of Contents'] },
      { chapter: 2, title: 'Chapter 1', heading_path: ['Chapter 1'] },
      { chapter: 3, title: 'Chapter 2', heading_path: ['Chapter 2'] },
      { chapter: 3, title: 'Chapter 2', heading_path: ['Chapter 2', 'Subchapter 2.1'] },
      { chapter: 3, title: 'Chapter 2', heading_path: ['Chapter 2', 'Subchapter 2.2'] },
    ]);
    expect(document.text).toContain('Chapter 1\n\nThis is the text for chapter One\n\nIt also contains a list\n\n- First item\n- Second item');
    expect(document.text.indexOf('text for chapter One')).toBeLessThan(document.text.indexOf('text for chapter Two'));
  });

  it('reads a whole book in reading order', async () => {
    const name = 'epub-gutenberg-winter-sports-switzerland.epub';
    const document = await extractDocument(readCorpus(name), name, EPUB);
    const chapters = document.segments.map((segment) => Number(segment.metadata.chapter));

    expect(document.title).toBe('Winter Sports in Switzerland');
    expect(document.metadata).toMatchObject({ chapter_count: 9, author: 'E. F. Benson' });
    expect(chapters).toEqual([...chapters].sort((left, right) => left - right));
    expect(document.text.indexOf('THE SUN-SEEKER')).toBeLessThan(document.text.indexOf('RINKS AND SKATERS'));
    expect(document.text).not.toMatch(/margin-|font-size/);
  });

  it('puts non-linear documents last and uses the EPUB 3 navigation titles', async () => {
    const document = await extractDocument(buildEpub(), 'small.epub', EPUB);

    expect(document.text).toBe('First words.\n\nPart A\n\nPart text.\n\nA side note.');
    expect(document.segments.map((segment) => segment.metadata)).toEqual([
      { chapter: 1, title: 'Opening Chapter' },
      { chapter: 1, title: 'Opening Chapter', heading_path: ['Part A'] },
      { chapter: 2, linear: false },
    ]);
  });

  it('rejects content documents encrypted with DRM', async () => {
    const epub = buildEpub({
      'META-INF/encryption.xml':
        '<encryption><EncryptedData><EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>' +
        '<CipherData><CipherReference URI="OEBPS/text/one.xhtml"/></CipherData></EncryptedData></encryption>',
    });

    await expect(extractionErrorCode(epub, 'drm.epub')).resolves.toBe('epub_encrypted');
  });

  it('accepts obfuscated fonts', async () => {
    const epub = buildEpub({
      'META-INF/encryption.xml':
        '<encryption><EncryptedData><EncryptionMethod Algorithm="http://www.idpf.org/2008/embedding"/>' +
        '<CipherData><CipherReference URI="OEBPS/text/one.xhtml"/></CipherData></EncryptedData></encryption>',
    });

    await expect(extractDocument(epub, 'fonts.epub', EPUB)).resolves.toMatchObject({ title: 'Small Book' });
  });

  it.each([
    ['docx-truncated-zip.docx', 'epub_damaged'],
    ['docx-nested-tables-bookmarks-header-footer.docx', 'epub_damaged'],
    ['odt-french-poem-footnotes-comments.odt', 'epub_damaged'],
  ])('rejects %s with %s', async (name, code) => {
    await expect(extractionErrorCode(readCorpus(name), name)).resolves.toBe(code);
  });
});
