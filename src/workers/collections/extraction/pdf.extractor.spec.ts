import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { InvalidInputError } from 'src/common/app-error';
import { PDF } from 'src/workers/collections/extraction/content-type';
import { extractDocument, InternalExtractOptions } from 'src/workers/collections/extraction/extract-document';
import { ExtractedDocument } from 'src/workers/collections/extraction/extraction.types';

const readCorpus = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name));
const flatten = (text: string): string => text.replace(/\s+/g, ' ');

const WITHOUT_POPPLER: InternalExtractOptions = { pdf: { pdftotextPath: '/nonexistent/pdftotext' } };

async function extractionErrorCode(name: string, options?: InternalExtractOptions, data = readCorpus(name)): Promise<string> {
  try {
    await extractDocument(data, name, PDF, options);
  } catch (error) {
    if (error instanceof InvalidInputError) {
      return error.code;
    }
    throw error;
  }
  throw new Error(`extraction of ${name} succeeded`);
}

describe('PDF extraction with pdftotext', () => {
  let paper: ExtractedDocument;

  beforeAll(async () => {
    paper = await extractDocument(readCorpus('pdf-two-column-arxiv-dpr-paper.pdf'), 'dpr.pdf', PDF);
  });

  it('extracts phrases of a two-column paper', () => {
    const text = flatten(paper.text);
    expect(text).toContain('Dense Passage Retrieval for Open-Domain Question Answering');
    expect(text).toContain('Open-domain question answering relies on efficient passage retrieval');
    expect(text).toContain('Our Dense Passage Retriever (DPR) is exceptionally strong.');
    expect(paper.contentType).toBe(PDF);
    expect(paper.metadata.pdf_extractor).toBe('pdftotext');
  });

  it('keeps each column in reading order', () => {
    const text = flatten(paper.text);
    // The end of the left column's introduction must not be interleaved with the right column.
    expect(text).toContain('a huge performance degradation is often observed in practice2 , indicating the needs of improving retrieval.');
    expect(text.indexOf('Open-domain question answering (QA) (Voorhees,')).toBeLessThan(
      text.indexOf('Retrieval in open-domain QA is usually implemented using TF-IDF or BM25'),
    );
  });

  it('returns one segment per page', () => {
    expect(paper.metadata.page_count).toBe(2);
    expect(paper.segments.map((segment) => segment.metadata)).toEqual([{ page: 1 }, { page: 2 }]);

    const [first, second] = paper.segments;
    expect(paper.text.slice(first.start, first.end)).toMatch(/^Dense Passage Retrieval/);
    expect(flatten(paper.text.slice(second.start, second.end))).toContain('Our Dense Passage Retriever (DPR)');
    expect(second.start).toBe(first.end + 2);
    expect(second.end).toBe(paper.text.length);
  });

  it('keeps blank lines between paragraphs', () => {
    expect(paper.text).toContain('\n\n');
    expect(paper.text).not.toMatch(/\n{3,}/);
    expect(paper.text).not.toContain('\f');
  });

  it('opens a copy-protected PDF without a password', async () => {
    const document = await extractDocument(readCorpus('pdf-owner-password-copy-protected.pdf'), 'copy.pdf', PDF);

    expect(flatten(document.text)).toContain('LayoutParser: A Unified Toolkit for Deep Learning Based Document Image Analysis');
    expect(document.metadata.encrypted).toBe(true);
    expect(document.metadata.page_count).toBe(2);
  });

  it('recovers text from a file without %%EOF', async () => {
    const document = await extractDocument(readCorpus('pdf-missing-eof-marker.pdf'), 'eof.pdf', PDF);

    expect(document.text).toContain('Hello World');
  });

  it('recovers text around a corrupt stream', async () => {
    const document = await extractDocument(readCorpus('pdf-corrupt-zlib-stream-zen-of-python.pdf'), 'zen.pdf', PDF);

    expect(document.text).toContain('Beautiful is better than ugly.');
    expect(document.text).toContain('Readability counts.');
  });

  it('reads metadata with pdfinfo', () => {
    expect(paper.metadata.producer).toBe('pdfTeX-1.40.17');
    expect(paper.metadata.creation_date).toBe('2020-10-02T00:12:08Z');
    expect(paper.title).toBeUndefined();
  });

  it.each([
    ['pdf-encrypted-user-password-is-password.pdf', 'pdf_encrypted'],
    ['pdf-scanned-image-only-no-text-layer.pdf', 'pdf_no_text_layer'],
  ])('rejects %s with %s', async (name, code) => {
    await expect(extractionErrorCode(name)).resolves.toBe(code);
  });

  it('rejects a truncated PDF as damaged', async () => {
    const truncated = readCorpus('pdf-two-column-arxiv-dpr-paper.pdf').subarray(0, 60_000);

    const error = await extractDocument(truncated, 'cut.pdf', PDF).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).code).toBe('pdf_damaged');
    expect((error as InvalidInputError).message).toContain("Couldn't read xref table");
  });

  it('rejects bytes that are not a PDF as damaged', async () => {
    await expect(extractionErrorCode('note.pdf', undefined, Buffer.from('just some text\n'))).resolves.toBe('pdf_damaged');
  });

  it('stops pdftotext at the timeout', async () => {
    await expect(
      extractionErrorCode('pdf-three-column-federal-register.pdf', { timeoutMs: 1 }),
    ).resolves.toBe('extraction_timeout');
  });

  it('rejects text above maxTextChars', async () => {
    await expect(
      extractionErrorCode('pdf-three-column-federal-register.pdf', { maxTextChars: 1000 }),
    ).resolves.toBe('text_too_large');
  });
});

describe('PDF extraction with the unpdf fallback', () => {
  it('extracts pages when pdftotext is missing', async () => {
    const document = await extractDocument(
      readCorpus('pdf-two-column-arxiv-dpr-paper.pdf'),
      'dpr.pdf',
      PDF,
      WITHOUT_POPPLER,
    );

    expect(document.metadata.pdf_extractor).toBe('unpdf');
    expect(document.metadata.page_count).toBe(2);
    expect(document.segments.map((segment) => segment.metadata)).toEqual([{ page: 1 }, { page: 2 }]);
    expect(flatten(document.text)).toContain('Dense Passage Retrieval for Open-Domain Question Answering');
    expect(document.metadata.creation_date).toBe('2020-10-02T00:12:08Z');
  });

  it.each([
    ['pdf-encrypted-user-password-is-password.pdf', 'pdf_encrypted'],
    ['pdf-scanned-image-only-no-text-layer.pdf', 'pdf_no_text_layer'],
  ])('rejects %s with %s', async (name, code) => {
    await expect(extractionErrorCode(name, WITHOUT_POPPLER)).resolves.toBe(code);
  });

  it('rejects a truncated PDF as damaged', async () => {
    const truncated = readCorpus('pdf-two-column-arxiv-dpr-paper.pdf').subarray(0, 60_000);

    await expect(extractionErrorCode('cut.pdf', WITHOUT_POPPLER, truncated)).resolves.toBe('pdf_damaged');
  });

  it('rejects text above maxTextChars', async () => {
    await expect(
      extractionErrorCode('pdf-three-column-federal-register.pdf', { ...WITHOUT_POPPLER, maxTextChars: 1000 }),
    ).resolves.toBe('text_too_large');
  });
});
