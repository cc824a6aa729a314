import { CORPUS_DIR } from 'src/testing/corpus';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import { InvalidInputError } from 'src/common/app-error';
import { detectContentType, DOCX, isSupportedContentType, PLAIN_TEXT } from 'src/workers/collections/extraction/content-type';
import { extractDocument } from 'src/workers/collections/extraction/extract-document';

const readCorpus = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name));

// Corpus files that must fail, with the error code.
const EXPECTED_FAILURES: Record<string, string> = {
  'pdf-encrypted-user-password-is-password.pdf': 'pdf_encrypted',
  'pdf-scanned-image-only-no-text-layer.pdf': 'pdf_no_text_layer',
  'docx-password-encrypted-ooxml.docx': 'docx_encrypted',
  'docx-truncated-zip.docx': 'docx_damaged',
  'zip-corrupted-bogus-4gib-entry-size.zip': 'archive_damaged',
};

async function errorOf(work: Promise<unknown>): Promise<InvalidInputError> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof InvalidInputError)) {
    throw new Error(`expected an InvalidInputError, got ${String(error)}`);
  }
  return error;
}

describe('extractDocument', () => {
  const supportedFiles = readdirSync(CORPUS_DIR)
    .filter((name) => name !== 'MANIFEST.md')
    .map((name) => ({ name, contentType: detectContentType(readCorpus(name).subarray(0, 8192), name) }))
    .filter(({ contentType }) => isSupportedContentType(contentType));

  it('finds the supported corpus files', () => {
    expect(supportedFiles.length).toBeGreaterThanOrEqual(25);
  });

  it.each(supportedFiles.map(({ name, contentType }) => [name, contentType]))(
    'extracts %s (%s) or fails with its code',
    async (name, contentType) => {
      const work = extractDocument(readCorpus(name), name, contentType);
      const expectedCode = EXPECTED_FAILURES[name];
      if (expectedCode) {
        expect((await errorOf(work)).code).toBe(expectedCode);
        return;
      }

      const document = await work;
      // An archive has no text of its own, only children.
      if (!document.children?.length) {
        expect(document.text.trim()).not.toBe('');
      }
      expect(document.text).toBe(document.text.trim());
      expect(document.text).not.toMatch(/\n{3,}/);
      expect(document.text).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F\r]/);
      expect(document.text).toBe(document.text.normalize('NFC'));

      let previousEnd = 0;
      for (const segment of document.segments) {
        expect(segment.start).toBeGreaterThanOrEqual(previousEnd);
        expect(segment.end).toBeGreaterThan(segment.start);
        expect(segment.end).toBeLessThanOrEqual(document.text.length);
        expect(document.text.slice(segment.start, segment.end)).toBe(document.text.slice(segment.start, segment.end).trim());
        previousEnd = segment.end;
      }
    },
  );

  it('rejects an unsupported content type', async () => {
    const error = await errorOf(extractDocument(Buffer.from('GIF89a'), 'a.gif', 'image/gif'));

    expect(error.code).toBe('unsupported_content_type');
    expect(error.message).toContain('image/gif');
  });

  it('rejects an empty file', async () => {
    expect((await errorOf(extractDocument(Buffer.alloc(0), 'empty.txt', PLAIN_TEXT))).code).toBe('empty_document');
  });

  it('rejects whitespace-only text', async () => {
    const error = await errorOf(extractDocument(Buffer.from(' \n\t\n\u00A0\u200B\n', 'utf8'), 'blank.txt', PLAIN_TEXT));

    expect(error.code).toBe('empty_document');
  });

  it('rejects text above maxTextChars', async () => {
    const error = await errorOf(extractDocument(Buffer.from('x'.repeat(101)), 'long.txt', PLAIN_TEXT, { maxTextChars: 100 }));

    expect(error.code).toBe('text_too_large');
    expect(error.details).toMatchObject({ max_text_chars: 100 });
  });

  it('accepts text at maxTextChars', async () => {
    const document = await extractDocument(Buffer.from('x'.repeat(100)), 'long.txt', PLAIN_TEXT, { maxTextChars: 100 });

    expect(document.text).toHaveLength(100);
  });

  it('reports a timeout of an in-process extractor', async () => {
    const data = readCorpus('docx-textbox-footnote-header-footer-lists-japanese.docx');

    expect((await errorOf(extractDocument(data, 'slow.docx', DOCX, { timeoutMs: 1 }))).code).toBe('extraction_timeout');
  });

  it('rejects invalid options', async () => {
    await expect(extractDocument(Buffer.from('x'), 'a.txt', PLAIN_TEXT, { timeoutMs: 0 })).rejects.toThrow(RangeError);
    await expect(extractDocument(Buffer.from('x'), 'a.txt', PLAIN_TEXT, { maxTextChars: 1.5 })).rejects.toThrow(RangeError);
  });
});

describe('extractDocument with hostile structure', () => {
  it('fails deeply nested HTML as too complex', async () => {
    const depth = 20_000;
    const html = Buffer.from(`<html><body>${'<div>'.repeat(depth)}deep text${'</div>'.repeat(depth)}</body></html>`);
    await expect(extractDocument(html, 'nested.html', 'text/html')).rejects.toMatchObject({
      kind: 'invalid',
      code: expect.stringMatching(/^(document_too_complex|extraction_failed)$/),
    });
  });
});
