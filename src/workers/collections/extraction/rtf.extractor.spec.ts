import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { InvalidInputError } from 'src/common/app-error';
import { RTF } from 'src/workers/collections/extraction/content-type';
import { extractDocument } from 'src/workers/collections/extraction/extract-document';

const readCorpus = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name));

async function extractionErrorCode(data: Buffer, name: string): Promise<string> {
  const error = await extractDocument(data, name, RTF).catch((caught: unknown) => caught);
  if (error instanceof InvalidInputError) {
    return error.code;
  }
  throw new Error(`extraction of ${name} did not fail with InvalidInputError: ${String(error)}`);
}

const rtfText = async (source: string): Promise<string> =>
  (await extractDocument(Buffer.from(source, 'latin1'), 'inline.rtf', RTF)).text;

describe('RTF extraction', () => {
  it('decodes Shift-JIS hex escapes with the font code page', async () => {
    const name = 'rtf-japanese-shift-jis-hex-escapes.rtf';
    const document = await extractDocument(readCorpus(name), name, RTF);

    expect(document.title).toBe('ゾルゲと尾崎、淡々と最期');
    expect(document.text).toContain('古書店で処刑記録見つかる');
    expect(document.text).toContain('太平洋戦争を前に、日本やドイツ政府の政治、軍事の機密情報をソ連に伝えたゾルゲ事件で');
    expect(document.text).toContain('ＧＨＱ報告書は９３ページあり翻訳中。');
    expect(document.text).not.toMatch(/[\u0080-\u00ff]{2}/);
    expect(document.segments[0].metadata).toEqual({ header: true });
    expect(document.text.slice(document.segments[0].start, document.segments[0].end)).toBe('ゾルゲの処刑記録、');
  });

  it('reads headers, footers, footnotes, lists, tables and text boxes', async () => {
    const name = 'rtf-header-footnote-list-table-japanese.rtf';
    const document = await extractDocument(readCorpus(name), name, RTF);
    const { text } = document;

    expect(text.startsWith('This is the header text.\n\n')).toBe(true);
    expect(text.endsWith('\n\nThis is the footer text.')).toBe(true);
    expect(document.segments.map((segment) => segment.metadata)).toEqual([{ header: true }, { footer: true }]);
    expect(text).toContain('Footnote appears here\n\n[1] This is a footnote.\n\nBold italic underline');
    expect(text).toContain('·\tBullet 1\n\n·\tBullet 2');
    expect(text).toContain('Row 1 Col 1 | Row 1 Col 2 | Row 1 Col 3\nRow 2 Col 1 | Row 2 Col 2 | Row 2 Col 3');
    expect(text).toContain('ゾルゲと尾崎、淡々と最期');
    expect(text).toContain('𐌲𐌿𐍄𐌹𐍃𐌺');
    expect(text.split('Here is a text box')).toHaveLength(2);
    expect(text).toContain('This is a hyperlink');
    expect(text).not.toContain('HYPERLINK');
  });

  it('skips the fallback characters of Unicode escapes', async () => {
    await expect(rtfText('{\\rtf1\\ansi\\uc2 caf\\u233\\\'c3\\\'a9 ok\\uc1\\u8364? end}')).resolves.toBe('café ok€ end');
  });

  it('skips binary data and ignorable destinations', async () => {
    await expect(rtfText('{\\rtf1 a{\\*\\unknown hidden}b\\bin3 {}x c{\\pict 0102}}')).resolves.toBe('ab c');
  });

  it('uses the document code page for hex escapes', async () => {
    await expect(rtfText("{\\rtf1\\ansi\\ansicpg1251 \\'cf\\'f0\\'e8\\'e2\\'e5\\'f2}")).resolves.toBe('Привет');
  });

  it.each([
    ['txt-latin1-multilanguage-phrases.txt', 'rtf_damaged'],
    ['docx-truncated-zip.docx', 'rtf_damaged'],
  ])('rejects %s with %s', async (name, code) => {
    await expect(extractionErrorCode(readCorpus(name), name)).resolves.toBe(code);
  });

  it('rejects groups nested beyond the limit', async () => {
    await expect(extractionErrorCode(Buffer.from(`{\\rtf1 ${'{'.repeat(10_000)}`), 'deep.rtf')).resolves.toBe('rtf_damaged');
  });
});
