import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { CSV, TSV } from 'src/workers/collections/extraction/content-type';
import { parseDelimited, sniffDelimiter } from 'src/workers/collections/extraction/csv.extractor';
import { extractDocument } from 'src/workers/collections/extraction/extract-document';

const readCorpus = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name));

describe('CSV extraction', () => {
  it('reads UTF-16BE with a title row above the header', async () => {
    const document = await extractDocument(readCorpus('csv-utf16be-bom-stanley-cups.csv'), 'cups.csv', CSV);

    expect(document.title).toBe('Stanley Cups');
    expect(document.text).toBe(
      'Team: Blues | Location: STL | Stanley Cups: 1\nTeam: Flyers | Location: PHI | Stanley Cups: 2\nTeam: Maple Leafs | Location: TOR | Stanley Cups: 13',
    );
    expect(document.metadata).toMatchObject({
      encoding: 'utf-16be',
      delimiter: ',',
      header: ['Team', 'Location', 'Stanley Cups'],
      row_count: 3,
    });
    expect(document.segments[0].metadata).toEqual({ row_start: 3, row_end: 5 });
  });

  it('sniffs a semicolon delimiter around commas', async () => {
    const document = await extractDocument(readCorpus('csv-semicolon-delimited-with-commas.csv'), 'semi.csv', CSV);

    expect(document.metadata).toMatchObject({ delimiter: ';', row_count: 5, column_count: 3 });
    expect(document.metadata.header).toBeUndefined();
    expect(document.text.split('\n')).toEqual([
      'Lorem, ipsum | dolor sit | amet',
      'consectetur | adipiscing | elit',
      'sed, do | eiusmod | tempor incididunt',
      'ut labore | et, dolore | magna aliqua',
      'Ut enim | ad minim | veniam, quis',
    ]);
  });

  it('keeps quoted delimiters, quotes and line breaks', () => {
    const rows = parseDelimited('name,quote\r\n"Smith, J.","He said ""hi""\nthen left"\r\nLee,plain\n', ',');

    expect(rows.map((row) => row.cells)).toEqual([
      ['name', 'quote'],
      ['Smith, J.', 'He said "hi"\nthen left'],
      ['Lee', 'plain'],
    ]);
  });

  it.each([
    ['a,b,c\n1,2,3\n', ','],
    ['a;b;c\n1,5;2,5;3\n', ';'],
    ['a\tb, c\td\n1\t2\t3\n', '\t'],
    ['single column\nvalue\n', ','],
  ])('sniffs the delimiter of %j', (sample, expected) => {
    expect(sniffDelimiter(sample)).toBe(expected);
  });

  it('splits long tables into parts of 50 rows', async () => {
    const lines = ['id,amount', ...Array.from({ length: 120 }, (_, index) => `${index + 1},${(index + 1) * 10}`)];

    const document = await extractDocument(Buffer.from(lines.join('\n')), 'amounts.csv', CSV);
    expect(document.segments.map((segment) => segment.metadata)).toEqual([
      { row_start: 2, row_end: 51 },
      { row_start: 52, row_end: 101 },
      { row_start: 102, row_end: 121 },
    ]);
    expect(document.text).toMatch(/^id: 1 \| amount: 10\n/);
  });

  it('reads TSV with a tab delimiter', async () => {
    const data = Buffer.from('city\tcountry\tpopulation\nLyon, Rhône\tFrance\t522000\nQuébec\tCanada\t549459\n');

    const document = await extractDocument(data, 'cities.tsv', TSV);
    expect(document.text).toBe('city: Lyon, Rhône | country: France | population: 522000\ncity: Québec | country: Canada | population: 549459');
  });
});
