import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { InvalidInputError } from 'src/common/app-error';
import { PPT } from 'src/workers/collections/extraction/content-type';
import { extractDocument } from 'src/workers/collections/extraction/extract-document';

const readCorpus = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name));

async function extractionErrorCode(data: Buffer, name: string): Promise<string> {
  const error = await extractDocument(data, name, PPT).catch((caught: unknown) => caught);
  if (error instanceof InvalidInputError) {
    return error.code;
  }
  throw new Error(`extraction of ${name} did not fail with InvalidInputError: ${String(error)}`);
}

// CurrentUserAtom.headerToken of an unencrypted file, as stored (MS-PPT 2.3.2).
const PLAIN_HEADER_TOKEN = Buffer.from([0x5f, 0xc0, 0x91, 0xe3]);

/** Copies a PowerPoint file and lets `patch` change its "Current User" stream at the header token. */
function withCurrentUserPatch(name: string, patch: (data: Buffer, tokenOffset: number) => void): Buffer {
  const data = Buffer.from(readCorpus(name));
  patch(data, data.indexOf(PLAIN_HEADER_TOKEN));
  return data;
}

describe('PPT extraction', () => {
  it('reads tables, text boxes and footnotes of a slide', async () => {
    const name = 'ppt-tables-footnotes-header-footer.ppt';
    const document = await extractDocument(readCorpus(name), name, PPT);
    const { text } = document;

    expect(document.segments.map((segment) => segment.metadata)).toEqual([{ slide: 1 }]);
    expect(document.metadata).toMatchObject({ slide_count: 1, author: 'Michael McCandless' });
    expect(text.startsWith('Row 1 Col 1\n\nRow 1 Col 2\n\nRow 1 Col 3\n\nRow 2 Col 1')).toBe(true);
    expect(text).toContain('Here is a text box');
    expect(text).toContain('Here is a list:\nBullet 1\nBullet 2\nBullet 3');
    expect(text).toContain('ゾルゲと尾崎、淡々と最期');
    expect(text).toContain('𐌲𐌿𐍄𐌹𐍃𐌺');
    expect(text.endsWith('[1] This is a footnote.')).toBe(true);
    expect(text).not.toContain('Click to edit Master');
  });

  it('leaves out generated header and footer placeholders', async () => {
    const name = 'ppt-tables-footnotes-header-footer.ppt';
    const document = await extractDocument(readCorpus(name), name, PPT);

    expect(document.text).not.toContain('This is the header text.');
    expect(document.text).not.toContain('This is the footer text.');
  });

  it('reads the title and bullets of a slide', async () => {
    const name = 'ppt-bullet-slides-python-pptx-demo.ppt';
    const document = await extractDocument(readCorpus(name), name, PPT);

    expect(document.text).toBe(
      'Adding a Bullet Slide\n\nFind the bullet slide layout\nUse _TextFrame.text for first bullet\n' +
        'Use _TextFrame.add_paragraph() for subsequent bullets\nHere is a lot of text!\n\nHere is some text in a text box!',
    );
  });

  it('falls back to stream order when the edit history is damaged', async () => {
    const data = withCurrentUserPatch('ppt-bullet-slides-python-pptx-demo.ppt', (bytes, token) => {
      bytes.writeUInt32LE(0x7fffffff, token + 4);
    });
    const document = await extractDocument(data, 'history.ppt', PPT);

    expect(document.segments.map((segment) => segment.metadata)).toEqual([{ slide: 1 }]);
    expect(document.text).toContain('Here is some text in a text box!');
  });

  it('rejects a password-protected file', async () => {
    const data = withCurrentUserPatch('ppt-bullet-slides-python-pptx-demo.ppt', (bytes, token) => {
      bytes.writeUInt32LE(0xf3d1c4df, token);
    });

    await expect(extractionErrorCode(data, 'secret.ppt')).resolves.toBe('ppt_encrypted');
  });

  it.each([
    ['doc-word97-nested-tables-headings.doc', 'ppt_damaged'],
    ['pptx-bullets-subbullets-table.pptx', 'ppt_damaged'],
    ['docx-password-encrypted-ooxml.docx', 'ppt_damaged'],
  ])('rejects %s with %s', async (name, code) => {
    await expect(extractionErrorCode(readCorpus(name), name)).resolves.toBe(code);
  });
});
