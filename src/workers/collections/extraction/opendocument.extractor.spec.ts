import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { InvalidInputError } from 'src/common/app-error';
import { ODP, ODS, ODT } from 'src/workers/collections/extraction/content-type';
import { extractDocument } from 'src/workers/collections/extraction/extract-document';
import { buildStoredZip } from 'src/workers/collections/extraction/stored-zip.fixture';

const readCorpus = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name));

async function extractionErrorCode(data: Buffer, name: string, contentType: string): Promise<string> {
  const error = await extractDocument(data, name, contentType).catch((caught: unknown) => caught);
  if (error instanceof InvalidInputError) {
    return error.code;
  }
  throw new Error(`extraction of ${name} did not fail with InvalidInputError: ${String(error)}`);
}

const CONTENT_START =
  '<office:document-content xmlns:office="o" xmlns:text="t" xmlns:table="ta" xmlns:style="s" xmlns:presentation="p" xmlns:draw="d">';

describe('ODT extraction', () => {
  it('keeps sentences whole and puts notes and comments after their paragraph', async () => {
    const name = 'odt-french-poem-footnotes-comments.odt';
    const document = await extractDocument(readCorpus(name), name, ODT);
    const { text } = document;

    expect(document.title).toBe('Le dormeur du val');
    expect(text).toContain("D'argent ; où le soleil, de la montagne fière,");
    expect(text).toContain('Les pieds dans les glaïeuls, il dort. Souriant comme\nSourirait un enfant malade');
    expect(text).toContain('Tranquille. Il a deux trous rouges au côté droit.\n\n[2] Note next remote link\n\n[i] End note');
    expect(text).toContain('Arthur Rimbaud\n\nComment (Auteur inconnu): Second comment');
    expect(text.startsWith('Le dormeur du val\n\n[1] Note dormeur\n\n')).toBe(true);
    expect(document.segments.map((segment) => segment.metadata)).toEqual([{ heading_path: ['Le dormeur du val'] }]);
  });

  it('leaves out deleted text of tracked changes and keeps shape titles', async () => {
    const name = 'odt-annotations-footnote-ooo3.odt';
    const document = await extractDocument(readCorpus(name), name, ODT);
    const { text } = document;

    expect(text).toContain('This is a rather difficult test document, with interesting features.');
    expect(text).not.toContain('complex');
    expect(text).toContain('[1] This is of course a simple footnote');
    expect(text).toContain('Comment (Bart Hanssens): Tika is part of the Lucene project.');
    expect(text).toContain('Rectangle Title\n\nThis is a rectangle with a blue background and dark border\n\nA rectangle');
    expect(document.segments[0].metadata).toEqual({ heading_path: ['Apache Tika Test Document'] });
    expect(document.metadata).toMatchObject({ author: 'Bart Hanssens' });
  });

  it('reads headers and footers of the page styles', async () => {
    const odt = buildStoredZip({
      mimetype: 'application/vnd.oasis.opendocument.text',
      'content.xml': `${CONTENT_START}<office:body><office:text><text:p>Body text</text:p></office:text></office:body></office:document-content>`,
      'styles.xml':
        '<office:document-styles xmlns:office="o" xmlns:style="s" xmlns:text="t"><office:master-styles><style:master-page>' +
        '<style:header><text:p>Running head</text:p></style:header><style:footer><text:p>Page footer</text:p></style:footer>' +
        '<style:footer-left><text:p>Page footer</text:p></style:footer-left></style:master-page></office:master-styles></office:document-styles>',
    });

    const document = await extractDocument(odt, 'pages.odt', ODT);

    expect(document.text).toBe('Running head\n\nBody text\n\nPage footer');
    expect(document.segments.map((segment) => segment.metadata)).toEqual([{ header: true }, { footer: true }]);
  });

  it.each([
    ['docx-truncated-zip.docx', 'odt_damaged'],
    ['docx-nested-tables-bookmarks-header-footer.docx', 'odt_damaged'],
    ['doc-word97-nested-tables-headings.doc', 'odt_damaged'],
  ])('rejects %s with %s', async (name, code) => {
    await expect(extractionErrorCode(readCorpus(name), name, ODT)).resolves.toBe(code);
  });

  it('rejects a password-protected package', async () => {
    const odt = buildStoredZip({
      mimetype: 'application/vnd.oasis.opendocument.text',
      'META-INF/manifest.xml':
        '<manifest:manifest xmlns:manifest="m"><manifest:file-entry manifest:full-path="content.xml">' +
        '<manifest:encryption-data manifest:checksum="x"/></manifest:file-entry></manifest:manifest>',
      'content.xml': 'encrypted bytes',
    });

    await expect(extractionErrorCode(odt, 'secret.odt', ODT)).resolves.toBe('odt_encrypted');
  });
});

describe('ODS extraction', () => {
  it('returns one segment per sheet with rows as lines', async () => {
    const name = 'ods-two-sheets-simple.ods';
    const document = await extractDocument(readCorpus(name), name, ODS);

    expect(document.text).toBe(
      'sheet1\n\ncol A | col B | col C\n1 | 2 | 3\na text | | another\n\nsheet2\n\ncol B | col C | col D\n1 | 2 | 3\na text | | another',
    );
    expect(document.segments.map((segment) => segment.metadata)).toEqual([{ sheet: 'sheet1' }, { sheet: 'sheet2' }]);
    expect(document.metadata).toMatchObject({ sheet_count: 2 });
  });

  it('writes displayed formula results, not formulas', async () => {
    const name = 'ods-formula-stress-ten-sheets.ods';
    const document = await extractDocument(readCorpus(name), name, ODS);

    expect(document.segments.map((segment) => segment.metadata.sheet)).toEqual([
      'Database',
      'Date',
      'Engineering',
      'Finance',
      'Information',
      'Logical',
      'Lookup',
      'Math',
      'Statistical',
      'Text',
    ]);
    expect(document.text).toContain('\nDATE | 6/9/2013 | 2013 | 6 | 9\n');
    expect(document.text).toContain('\nCONCATENATE | Foobarbazqux | Foo |');
    expect(document.text).not.toContain('of:=');
  });

  it('repeats filled cells and rows, flags hidden sheets', async () => {
    const ods = buildStoredZip({
      mimetype: 'application/vnd.oasis.opendocument.spreadsheet',
      'content.xml':
        `${CONTENT_START}<office:automatic-styles><style:style style:name="ta2" style:family="table"><style:table-properties table:display="false"/></style:style></office:automatic-styles>` +
        '<office:body><office:spreadsheet><table:table table:name="Hidden" table:style-name="ta2">' +
        '<table:table-row table:number-rows-repeated="2"><table:table-cell table:number-columns-repeated="2"><text:p>x</text:p></table:table-cell><table:table-cell table:number-columns-repeated="16000"/></table:table-row>' +
        '<table:table-row table:number-rows-repeated="1048574"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>' +
        '</table:table></office:spreadsheet></office:body></office:document-content>',
    });

    const document = await extractDocument(ods, 'repeat.ods', ODS);

    expect(document.text).toBe('Hidden\n\nx | x\nx | x');
    expect(document.segments[0].metadata).toEqual({ sheet: 'Hidden', hidden: true });
    expect(document.metadata).toMatchObject({ hidden_sheets: ['Hidden'] });
  });
});

describe('ODP extraction', () => {
  it('returns one segment per slide', async () => {
    const name = 'odp-sociology-lecture-37-slides.odp';
    const document = await extractDocument(readCorpus(name), name, ODP);
    const slides = document.segments.map((segment) => segment.metadata.slide);

    expect(document.title).toBe('Medicine and Health Care');
    expect(document.metadata).toMatchObject({ slide_count: 37 });
    expect(slides[0]).toBe(1);
    expect(slides).toEqual([...slides].sort((left, right) => Number(left) - Number(right)));
    const [first, second] = document.segments;
    expect(document.text.slice(first.start, first.end)).toBe('Medicine and Health Care');
    expect(second.metadata).toEqual({ slide: 2 });
    expect(document.text.slice(second.start, second.end)).toMatch(/^What does sociology contribute to something as seemingly biological as health\?/);
    expect(document.text.indexOf('Illness and Social Order')).toBeLessThan(document.text.indexOf('Medical Providers'));
  });

  it('keeps text frames and image titles and descriptions', async () => {
    const name = 'odp-multilingual-frame-title-description.odp';
    const document = await extractDocument(readCorpus(name), name, ODP);

    expect(document.text).toBe('Zoé\n\n你好\n\nIntitulé\n\n描述');
    expect(document.segments.map((segment) => segment.metadata)).toEqual([{ slide: 1 }]);
  });

  it('returns notes and flags hidden slides', async () => {
    const odp = buildStoredZip({
      mimetype: 'application/vnd.oasis.opendocument.presentation',
      'content.xml':
        `${CONTENT_START}<office:automatic-styles><style:style style:name="dp2" style:family="drawing-page"><style:drawing-page-properties presentation:visibility="hidden"/></style:style></office:automatic-styles>` +
        '<office:body><office:presentation>' +
        '<draw:page draw:name="a"><draw:frame presentation:class="title"><draw:text-box><text:p>First</text:p></draw:text-box></draw:frame>' +
        '<draw:frame presentation:class="page-number"><draw:text-box><text:p>1</text:p></draw:text-box></draw:frame>' +
        '<presentation:notes><draw:page-thumbnail/><draw:frame presentation:class="notes"><draw:text-box><text:p>Say hello</text:p></draw:text-box></draw:frame></presentation:notes></draw:page>' +
        '<draw:page draw:name="b" draw:style-name="dp2"><draw:frame><draw:text-box><text:p>Second</text:p></draw:text-box></draw:frame></draw:page>' +
        '</office:presentation></office:body></office:document-content>',
    });

    const document = await extractDocument(odp, 'notes.odp', ODP);

    expect(document.text).toBe('First\n\nSay hello\n\nSecond');
    expect(document.segments.map((segment) => segment.metadata)).toEqual([
      { slide: 1 },
      { slide: 1, notes: true },
      { slide: 2, hidden: true },
    ]);
  });
});
