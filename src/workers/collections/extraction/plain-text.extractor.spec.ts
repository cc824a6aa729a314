import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { PLAIN_TEXT } from 'src/workers/collections/extraction/content-type';
import { extractDocument } from 'src/workers/collections/extraction/extract-document';

const readCorpus = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name));

describe('plain text extraction', () => {
  it('decodes Latin-1 text', async () => {
    const document = await extractDocument(readCorpus('txt-latin1-multilanguage-phrases.txt'), 'latin1.txt', PLAIN_TEXT);

    expect(document.metadata.encoding).toBe('windows-1252');
    expect(document.text).toContain('Port ABC não contabilize');
    expect(document.text).toContain('Port ABC contratação de sucesso');
    expect(document.text).toContain('español ABC adhoc prácticas');
    expect(document.text).not.toContain('\uFFFD');
    expect(document.segments).toEqual([]);
  });

  it('decodes UTF-16LE text with a BOM', async () => {
    const document = await extractDocument(readCorpus('txt-utf16le-bom.txt'), 'utf16.txt', PLAIN_TEXT);

    expect(document.metadata.encoding).toBe('utf-16le');
    expect(document.text).toMatch(/^This is a test document to use for unit tests\./);
    expect(document.text).toContain('- Hamburgers are delicious');
    expect(document.text).not.toContain('\uFEFF');
  });

  it('decodes CP866 Russian text', async () => {
    const document = await extractDocument(readCorpus('txt-russian-poem-cp866.txt'), 'poem.txt', PLAIN_TEXT);

    expect(document.metadata.encoding).toBe('cp866');
    expect(document.text).toMatch(/^Однажды, в студеную зимнюю пору,\nЯ из лесу вышел; был сильный мороз\./);
    expect(document.text).toContain('Лошадку ведет под уздцы мужичок');
  });

  it('decodes UTF-16BE with a BOM', async () => {
    const document = await extractDocument(readCorpus('csv-utf16be-bom-stanley-cups.csv'), 'cups.txt', PLAIN_TEXT);

    expect(document.contentType).toBe(PLAIN_TEXT);
    expect(document.text).toBe('Stanley Cups,,\nTeam,Location,Stanley Cups\nBlues,STL,1\nFlyers,PHI,2\nMaple Leafs,TOR,13');
  });

  it('uses the charset parameter of the content type', async () => {
    const data = Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]);

    const document = await extractDocument(data, 'koi8.txt', 'text/plain; charset=KOI8-R');

    expect(document.text).toBe('Привет');
    expect(document.contentType).toBe(PLAIN_TEXT);
  });

  it('normalises spaces and keeps paragraph breaks', async () => {
    const data = Buffer.from('  First   line\r\nsecond\u00A0line\u0007\r\n\r\n\r\n\r\nNext\tparagraph  \n', 'utf8');

    const document = await extractDocument(data, 'messy.txt', PLAIN_TEXT);

    expect(document.text).toBe('First line\nsecond line\n\nNext\tparagraph');
  });
});
