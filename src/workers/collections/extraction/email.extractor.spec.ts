import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as XLSX from 'xlsx';

import { InvalidInputError } from 'src/common/app-error';
import { EML, OUTLOOK_MSG } from 'src/workers/collections/extraction/content-type';
import { extractDocument } from 'src/workers/collections/extraction/extract-document';

const readCorpus = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name));

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

function eml(lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

const utf16 = (value: string): Buffer => Buffer.from(value, 'utf16le');

interface MsgSpec {
  subject: string;
  body?: string;
  /** PidTagRtfCompressed content, already in the compressed RTF format. */
  compressedRtf?: Buffer;
  attachments?: { name: string; data: Buffer }[];
}

/**
 * Builds an Outlook message as MS-OXMSG lays it out: string properties in `__substg1.0_`
 * streams of an OLE2 compound file, written with the CFB library that SheetJS bundles.
 */
function buildMsg(spec: MsgSpec): Buffer {
  const CFB = XLSX.CFB;
  const file = CFB.utils.cfb_new();
  const add = (name: string, content: Buffer): void => {
    CFB.utils.cfb_add(file, name, content);
  };
  add('/__substg1.0_001A001F', utf16('IPM.Note'));
  add('/__substg1.0_0037001F', utf16(spec.subject));
  add('/__substg1.0_0C1A001F', utf16('Ada Lovelace'));
  add('/__substg1.0_5D01001F', utf16('ada@example.com'));
  add('/__substg1.0_007D001F', utf16('Message-ID: <msg-1@example.com>\r\nSubject: ignored\r\n'));
  if (spec.body !== undefined) add('/__substg1.0_1000001F', utf16(spec.body));
  if (spec.compressedRtf) add('/__substg1.0_10090102', spec.compressedRtf);
  add('/__recip_version1.0_#00000000/__substg1.0_3001001F', utf16('Bob Example'));
  add('/__recip_version1.0_#00000000/__substg1.0_39FE001F', utf16('bob@example.com'));
  (spec.attachments ?? []).forEach((attachment, index) => {
    const folder = `/__attach_version1.0_#${index.toString(16).toUpperCase().padStart(8, '0')}`;
    add(`${folder}/__substg1.0_3707001F`, utf16(attachment.name));
    add(`${folder}/__substg1.0_37010102`, attachment.data);
  });
  // cfb_new adds a placeholder stream that real messages do not have.
  CFB.utils.cfb_del(file, '/\u0001Sh33tJ5');
  return Buffer.from(CFB.write(file, { type: 'buffer' }) as Uint8Array);
}

/**
 * Wraps RTF in the compressed RTF format (MS-OXRTFCP) using only literal runs: each control
 * byte 0x00 announces up to eight literal bytes.
 */
function compressRtfLiterally(rtf: string): Buffer {
  const raw = Buffer.from(rtf, 'latin1');
  const runs: Buffer[] = [];
  for (let offset = 0; offset < raw.length; offset += 8) {
    runs.push(Buffer.from([0]), raw.subarray(offset, offset + 8));
  }
  const body = Buffer.concat(runs);
  const header = Buffer.alloc(16);
  header.writeUInt32LE(body.length + 12, 0);
  header.writeUInt32LE(raw.length, 4);
  header.write('LZFu', 8, 'latin1');
  return Buffer.concat([header, body]);
}

describe('EML extraction', () => {
  it('extracts headers, text body and a base64 attachment', async () => {
    const document = await extractDocument(readCorpus('eml-qp-html-body-base64-text-attachment.eml'), 'mail.eml', EML);

    expect(document.title).toBe('Fake email with attachment');
    expect(document.text).toMatch(
      /^From: Mallori Harrell <mallori@unstructured\.io>\nTo: Mallori Harrell <mallori@unstructured\.io>\nSubject: Fake email with attachment\nDate: 2022-12-23T18:08:48\.000Z\n\nHello!/,
    );
    expect(document.text).toContain("Here's the attachments!");
    expect(document.text).toContain('- Lots of whitespace');
    expect(document.metadata).toMatchObject({
      from: 'Mallori Harrell <mallori@unstructured.io>',
      to: ['Mallori Harrell <mallori@unstructured.io>'],
      cc: [],
      subject: 'Fake email with attachment',
      date: '2022-12-23T18:08:48.000Z',
      message_id: '<CAPgNNXSzLVJ-d1OCX_TjFgJU7ugtQrjFybPtAMmmYZzphxNFYg@mail.gmail.com>',
      attachment_count: 1,
    });
    expect(document.children).toEqual([
      expect.objectContaining({
        path: 'attachment:fake-attachment.txt',
        document: expect.objectContaining({ contentType: 'text/plain', text: 'Hey this is a fake attachment!' }),
      }),
    ]);
  });

  it('decodes a windows-1255 Hebrew message', async () => {
    const document = await extractDocument(readCorpus('eml-hebrew-windows-1255-qp-base64.eml'), 'hebrew.eml', EML);

    expect(document.title).toBe('RE: שלום');
    expect(document.metadata).toMatchObject({ from: 'Tamir Erez <eryzxx@post.tau.ac.il>', body_format: 'text' });
    expect(document.text).toContain('סלבה היקר,');
    expect(document.text).toContain('אני חושב שזה לא יהיה מקצועי');
    expect(document.text.indexOf('סלבה היקר')).toBeLessThan(document.text.indexOf('תמיר שלום'));
    expect(document.children).toEqual([]);
  });

  it('extracts a PDF attachment recursively', async () => {
    const document = await extractDocument(readCorpus('eml-with-pdf-attachment.eml'), 'with-pdf.eml', EML);

    expect(document.text).toContain('This is a container email with an embedded pdf with incremental updates.');
    const attachment = document.children?.find((child) => child.path === 'attachment:testPDF_incrementalUpdates.pdf');
    expect(attachment?.error).toBeUndefined();
    expect(attachment?.document?.contentType).toBe('application/pdf');
    expect(attachment?.document?.text).toContain('Testing Incremental');
  });

  it('falls back to the HTML body', async () => {
    const data = eml([
      'From: Ana <ana@example.com>',
      'To: Bo <bo@example.com>, Cy <cy@example.com>',
      'Cc: Di <di@example.com>',
      'Subject: =?UTF-8?B?Q2Fmw6kgbWVudQ==?=',
      'Date: Tue, 1 Apr 2025 10:00:00 +0200',
      'MIME-Version: 1.0',
      'Content-Type: text/html; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      '<html><body><h1>Men=FC</h1><p>Caf=E9 au lait</p><script>tracking()</script></body></html>',
    ]);

    const document = await extractDocument(data, 'html.eml', EML);
    expect(document.title).toBe('Café menu');
    expect(document.metadata).toMatchObject({
      body_format: 'html',
      to: ['Bo <bo@example.com>', 'Cy <cy@example.com>'],
      cc: ['Di <di@example.com>'],
      date: '2025-04-01T08:00:00.000Z',
    });
    expect(document.text).toContain('Cc: Di <di@example.com>');
    expect(document.text).toContain('Menü\n\nCafé au lait');
    expect(document.text).not.toContain('tracking');
  });

  it('reports each attachment on its own', async () => {
    const data = eml([
      'From: a@example.com',
      'Subject: Attachments',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'See the files.',
      '--b1',
      'Content-Type: application/octet-stream; name="empty.txt"',
      'Content-Disposition: attachment; filename="empty.txt"',
      'Content-Transfer-Encoding: base64',
      '',
      '',
      '--b1',
      'Content-Type: application/zip; name="docs.zip"',
      'Content-Disposition: attachment; filename="docs.zip"',
      'Content-Transfer-Encoding: base64',
      '',
      readCorpus('zip-containing-zip-with-html.zip').toString('base64'),
      '--b1',
      'Content-Type: text/plain',
      'Content-Disposition: attachment',
      '',
      'unnamed text attachment',
      '--b1--',
      '',
    ]);

    const document = await extractDocument(data, 'attachments.eml', EML);
    expect(document.children?.map((child) => child.path)).toEqual([
      'attachment:empty.txt',
      'attachment:docs.zip',
      'attachment:docs.zip/html-within-zip.zip',
      'attachment:docs.zip/html-within-zip.zip/text.html',
      'attachment:attachment-3.txt',
    ]);
    expect(document.children?.[0].error?.code).toBe('empty_document');
    expect(document.children?.[3].document?.text).toContain('This is just some text.');
    expect(document.children?.[4].document?.text).toBe('unnamed text attachment');
  });

  it('indexes a message by its headers alone', async () => {
    const data = eml(['From: a@example.com', 'MIME-Version: 1.0', 'Content-Type: text/plain', '', '']);
    const document = await extractDocument(data, 'headers-only.eml', EML);

    // The header block is text of its own, so the message is indexed by its headers.
    expect(document.text).toBe('From: a@example.com');
  });
});

describe('Outlook MSG extraction', () => {
  it('extracts headers, plain body and attachments', async () => {
    const data = buildMsg({
      subject: 'Quarterly report',
      body: 'Revenue grew in the third quarter.',
      attachments: [{ name: 'notes.txt', data: Buffer.from('Attached meeting notes') }],
    });

    const document = await extractDocument(data, 'report.msg', OUTLOOK_MSG);
    expect(document.title).toBe('Quarterly report');
    expect(document.text).toBe(
      'From: Ada Lovelace <ada@example.com>\nTo: Bob Example <bob@example.com>\nSubject: Quarterly report\n\nRevenue grew in the third quarter.',
    );
    expect(document.metadata).toMatchObject({ message_id: '<msg-1@example.com>', body_format: 'text', attachment_count: 1 });
    expect(document.children).toEqual([
      expect.objectContaining({ path: 'attachment:notes.txt', document: expect.objectContaining({ text: 'Attached meeting notes' }) }),
    ]);
  });

  it('reads a compressed RTF body and flags it', async () => {
    const rtf = "{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0 Arial;}}\\f0 Caf\\'e9 au lait\\par Second line \\u8364?5\\par}";
    const data = buildMsg({ subject: 'RTF only', compressedRtf: compressRtfLiterally(rtf) });

    const document = await extractDocument(data, 'rtf.msg', OUTLOOK_MSG);
    expect(document.metadata.body_format).toBe('rtf');
    expect(document.text).toContain('Café au lait\nSecond line €5');
    expect(document.text).not.toContain('Arial');
  });

  it('rejects a file that is not an Outlook message', async () => {
    const error = await errorOf(extractDocument(Buffer.from('plain text pretending'), 'fake.msg', OUTLOOK_MSG));

    expect(error.code).toBe('msg_invalid');
    expect(error.message).toContain('fake.msg');
  });

  it('rejects an OLE2 file without message properties', async () => {
    const error = await errorOf(extractDocument(readCorpus('doc-word97-nested-tables-headings.doc'), 'word.msg', OUTLOOK_MSG));

    expect(error.code).toBe('msg_invalid');
  });
});
