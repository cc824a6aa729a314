import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { InvalidInputError } from 'src/common/app-error';
import { XLSM, XLSX } from 'src/workers/collections/extraction/content-type';
import { extractDocument } from 'src/workers/collections/extraction/extract-document';
import { buildStoredZip } from 'src/workers/collections/extraction/stored-zip.fixture';
import {
  formatSerialDate,
  isDateFormatCode,
  roundToExcelPrecision,
} from 'src/workers/collections/extraction/xlsx.extractor';

const readCorpus = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name));

async function extractionErrorCode(data: Buffer, name: string): Promise<string> {
  const error = await extractDocument(data, name, XLSX).catch((caught: unknown) => caught);
  if (error instanceof InvalidInputError) {
    return error.code;
  }
  throw new Error(`extraction of ${name} did not fail with InvalidInputError: ${String(error)}`);
}

describe('XLSX extraction', () => {
  it('returns one segment per sheet in workbook order', async () => {
    const document = await extractDocument(readCorpus('xlsx-financial-segments-five-sheets-formulas.xlsx'), 'report.xlsx', XLSX);

    expect(document.segments.map((segment) => segment.metadata)).toEqual([
      { sheet: 'OS-Rev.and results 30 06 2023' },
      { sheet: 'OS-Other information 30 06 2023' },
      { sheet: 'Prod.Rev.and results 30 06 2023' },
      { sheet: 'Prod.-Other inform. 30 06 23' },
      { sheet: 'Reconciliation 30 06 2023' },
    ]);
    expect(document.metadata).toMatchObject({ sheet_count: 5 });
    for (const segment of document.segments) {
      expect(document.text.slice(segment.start, segment.end).startsWith(`${String(segment.metadata.sheet)}\n\n`)).toBe(true);
    }
  });

  it('writes rows as lines with the cached values of formulas', async () => {
    const document = await extractDocument(readCorpus('xlsx-financial-segments-five-sheets-formulas.xlsx'), 'report.xlsx', XLSX);
    const first = document.segments[0];
    const sheetText = document.text.slice(first.start, first.end);

    expect(sheetText).toContain('In millions of CHF | | | | | | | | | January–June 2023');
    expect(sheetText).toContain('\nZone NA | 12553 | 2713 | 2632 | | -81 | -29 | -44 | | -337\n');
    expect(sheetText).toContain('\nTotal | 46293 | 7904 | 7351 | | -553 | -110 | -262 | | -1722\n');
    expect(sheetText.indexOf('January–June 2023')).toBeLessThan(sheetText.indexOf('January–June 2022'));
    expect(document.text).not.toMatch(/SUM\(|=[A-Z]+\d/);
  });

  it('formats dates, booleans, errors and long decimals', async () => {
    const document = await extractDocument(readCorpus('xlsx-formula-stress-ten-sheets.xlsx'), 'stress.xlsx', XLSX);

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
    expect(document.text).toContain('\nDATE | 2013-06-09 | 2013 | 6 | 9\n');
    expect(document.text).toContain('\nTIME | 06:09:23 | 6 | 9 | 23\n');
    expect(document.text).toContain('\nNOW | 2013-05-05 21:06:02\n');
    expect(document.text).toContain('\nTRUE | TRUE\n');
    expect(document.text).toContain('#NAME?');
    expect(document.text).toContain('\nDAVERAGE | 11.6666666666667 | | 3\n');
    expect(document.text).toContain('IRR | 8.66309480365222%');
    expect(document.text).not.toContain('DAVERAGE(');
  });

  it('accepts the macro-enabled variant', async () => {
    const document = await extractDocument(readCorpus('xlsx-formula-stress-ten-sheets.xlsx'), 'stress.xlsm', XLSM);

    expect(document.contentType).toBe(XLSM);
    expect(document.segments).toHaveLength(10);
  });

  it('flags hidden sheets and reads inline strings', async () => {
    const workbook = buildStoredZip({
      '[Content_Types].xml': '<Types/>',
      '_rels/.rels':
        '<Relationships><Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
      'xl/workbook.xml':
        '<workbook xmlns:r="r"><sheets><sheet name="Shown" r:id="s1"/><sheet name="Secret" state="hidden" r:id="s2"/></sheets></workbook>',
      'xl/_rels/workbook.xml.rels':
        '<Relationships><Relationship Id="s1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/a.xml"/><Relationship Id="s2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/b.xml"/></Relationships>',
      'xl/worksheets/a.xml': '<worksheet><sheetData><row><c r="B2" t="inlineStr"><is><t>Fish &amp; chips</t></is></c></row></sheetData></worksheet>',
      'xl/worksheets/b.xml': '<worksheet><sheetData><row><c r="A1"><f>1+1</f></c><c r="C1" t="b"><v>1</v></c></row></sheetData></worksheet>',
    });

    const document = await extractDocument(workbook, 'hidden.xlsx', XLSX);

    expect(document.text).toBe('Shown\n\nFish & chips\n\nSecret\n\nTRUE');
    expect(document.segments.map((segment) => segment.metadata)).toEqual([{ sheet: 'Shown' }, { sheet: 'Secret', hidden: true }]);
    expect(document.metadata).toMatchObject({ hidden_sheets: ['Secret'], formulas_without_cached_value: 1 });
  });

  it.each([
    ['docx-password-encrypted-ooxml.docx', 'xlsx_encrypted'],
    ['docx-truncated-zip.docx', 'xlsx_damaged'],
    ['xls-three-sheets-numbers-and-squares.xls', 'xlsx_not_ooxml'],
    ['docx-nested-tables-bookmarks-header-footer.docx', 'xlsx_damaged'],
    ['pdf-missing-eof-marker.pdf', 'xlsx_damaged'],
  ])('rejects %s with %s', async (name, code) => {
    await expect(extractionErrorCode(readCorpus(name), name)).resolves.toBe(code);
  });

  it('rejects malformed sheet XML as damaged', async () => {
    const workbook = buildStoredZip({
      '_rels/.rels':
        '<Relationships><Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
      'xl/workbook.xml': '<workbook><sheets><sheet name="A" r:id="s1"/></sheets></workbook>',
      'xl/_rels/workbook.xml.rels':
        '<Relationships><Relationship Id="s1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/a.xml"/></Relationships>',
      'xl/worksheets/a.xml': '<worksheet><sheetData><row><c r="A1" t="str',
    });

    await expect(extractionErrorCode(workbook, 'cut.xlsx')).resolves.toBe('xlsx_damaged');
  });
});

describe('XLSX cell formatting', () => {
  it.each([
    ['yyyy-mm-dd', true],
    ['[$-409]mmmm d, yyyy', true],
    ['h:mm AM/PM', true],
    ['[h]:mm:ss', true],
    ['#,##0.00', false],
    ['"Day "0', false],
    ['[Red]#,##0', false],
    ['General', false],
  ])('reads %s as a date format: %s', (code, expected) => {
    expect(isDateFormatCode(code)).toBe(expected);
  });

  it.each([
    [41434, false, '2013-06-09'],
    [0.2565162037037037, false, '06:09:23'],
    [41399.879184143516, false, '2013-05-05 21:06:02'],
    [1, false, '1900-01-01'],
    [0, true, '00:00:00'],
    [1, true, '1904-01-02'],
  ])('writes serial %s (1904 system: %s) as %s', (serial, date1904, expected) => {
    expect(formatSerialDate(serial, date1904)).toBe(expected);
  });

  it('rounds to 15 significant digits', () => {
    expect(roundToExcelPrecision(0.1 + 0.2)).toBe('0.3');
    expect(roundToExcelPrecision(11.666666666666666)).toBe('11.6666666666667');
    expect(roundToExcelPrecision(-1722)).toBe('-1722');
  });
});
