import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { InvalidInputError } from 'src/common/app-error';
import { PPTX } from 'src/workers/collections/extraction/content-type';
import { extractDocument, ExtractedDocument } from 'src/workers/collections/extraction/extract-document';

const readCorpus = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name));

async function extractionErrorCode(name: string): Promise<string> {
  const error = await extractDocument(readCorpus(name), name, PPTX).catch((caught: unknown) => caught);
  if (error instanceof InvalidInputError) {
    return error.code;
  }
  throw new Error(`extraction of ${name} did not fail with InvalidInputError: ${String(error)}`);
}

/** Text of the segment whose metadata equals `metadata`. */
function segmentText(document: ExtractedDocument, metadata: Record<string, unknown>): string {
  const segment = document.segments.find((candidate) => JSON.stringify(candidate.metadata) === JSON.stringify(metadata));
  if (!segment) {
    throw new Error(`no segment with metadata ${JSON.stringify(metadata)}`);
  }
  return document.text.slice(segment.start, segment.end);
}

describe('PPTX extraction', () => {
  let various: ExtractedDocument;

  beforeAll(async () => {
    const name = 'pptx-ten-slides-speaker-notes-wordart-hidden-slide.pptx';
    various = await extractDocument(readCorpus(name), name, PPTX);
  });

  it('returns slides in presentation order', () => {
    const slides = various.segments.filter((segment) => !segment.metadata.notes && !segment.metadata.comments);

    // Slides 5 to 7 hold only pictures and embedded objects, slide 10 only the master footer.
    expect(slides.map((segment) => segment.metadata.slide)).toEqual([1, 2, 3, 4, 8, 9]);
    expect(various.metadata).toMatchObject({ slide_count: 10, hidden_slides: [9] });
    expect(various.text.indexOf('Slide2Header')).toBeLessThan(various.text.indexOf('Slide3Header'));
  });

  it('reads text frames, tables, charts, SmartArt and WordArt', () => {
    expect(segmentText(various, { slide: 2 })).toBe(
      'Slide2Header\n\nFirstBullet\nSecondBullet\ntika_hyperlink\n\nSlide2TextBox\n\nR1c1 | R1c2 | r1c3\nr2c1 | lucene_hyperlink',
    );
    expect(segmentText(various, { slide: 3 })).toBe('Slide3Header\n\nSLIDE3ChartTitle\n\nThis is some WordART');
    expect(segmentText(various, { slide: 4 })).toBe('SmartList1\nSmartList2');
  });

  it('returns speaker notes, including a table in the notes', () => {
    expect(segmentText(various, { slide: 2, notes: true })).toBe('NotesForSlide2\n\nNotesWordArtPage2\n\nNotesTableSlide2');
    expect(segmentText(various, { slide: 3, notes: true })).toBe('Notes for slide3');
  });

  it('returns comments and flags the hidden slide', () => {
    expect(segmentText(various, { slide: 1, comments: true })).toContain('This is a reply to the initial comment');
    expect(segmentText(various, { slide: 2, comments: true })).toBe('Slide2Comment');
    expect(segmentText(various, { slide: 9, hidden: true })).toBe('This slide is hidden');
  });

  it('leaves out date, slide number and footer placeholders', () => {
    expect(various.text).not.toContain('12/16/2016');
    expect(various.text).not.toContain('MASTERFOOTERMSG');
    expect(various.text).not.toContain('NotesMasterHeader');
  });

  it('keeps nested bullets and table rows', async () => {
    const name = 'pptx-bullets-subbullets-table.pptx';
    const document = await extractDocument(readCorpus(name), name, PPTX);

    expect(document.title).toBe('Title Slide');
    expect(document.segments.map((segment) => segment.metadata)).toEqual([{ slide: 1 }, { slide: 2 }, { slide: 3 }, { slide: 4 }]);
    expect(segmentText(document, { slide: 2 })).toContain('With a sub-bullet\nAnd another one\nThis one is a sub-sub-bullet');
    expect(segmentText(document, { slide: 4 })).toBe('This is kinda backwards, huh?\n\nTable | A | B | C\n1 | A1 | B1 | C1\n2 | A2 | B2 | C2');
  });

  it.each([
    ['docx-password-encrypted-ooxml.docx', 'pptx_encrypted'],
    ['docx-truncated-zip.docx', 'pptx_damaged'],
    ['ppt-bullet-slides-python-pptx-demo.ppt', 'pptx_not_ooxml'],
    ['xlsx-financial-segments-five-sheets-formulas.xlsx', 'pptx_damaged'],
  ])('rejects %s with %s', async (name, code) => {
    await expect(extractionErrorCode(name)).resolves.toBe(code);
  });
});
