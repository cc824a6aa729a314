import { CORPUS_DIR } from 'src/testing/corpus';
import * as iconv from 'iconv-lite';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as tar from 'tar-stream';

import { InvalidInputError } from 'src/common/app-error';
import { GZIP, TAR, ZIP } from 'src/workers/collections/extraction/content-type';
import { extractDocument, InternalExtractOptions } from 'src/workers/collections/extraction/extract-document';
import { ExtractedChild, ExtractedDocument } from 'src/workers/collections/extraction/extraction.types';

const readCorpus = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name));

interface ZipEntrySpec {
  /** A string is stored as UTF-8; a Buffer is stored as given. */
  name: string | Buffer;
  data?: Buffer;
  /** 0 = stored, 8 = deflate (default). */
  method?: number;
  /** Sets the UTF-8 name flag (general purpose bit 11). Defaults to true for string names. */
  utf8Flag?: boolean;
  /** Unix mode stored in the external attributes, such as 0o120777 for a symbolic link. */
  unixMode?: number;
  /** Uncompressed size written to the headers instead of the real one. */
  declaredSize?: number;
  encrypted?: boolean;
}

/** Builds a ZIP archive in memory (APPNOTE 6.3: local headers, central directory, end record). */
function buildZip(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;

  for (const entry of entries) {
    const name = typeof entry.name === 'string' ? Buffer.from(entry.name, 'utf8') : entry.name;
    const data = entry.data ?? Buffer.alloc(0);
    const method = entry.method ?? 8;
    const compressed = method === 8 ? zlib.deflateRawSync(data) : data;
    const flags = ((entry.utf8Flag ?? typeof entry.name === 'string') ? 0x800 : 0) | (entry.encrypted ? 0x1 : 0);
    const crc = zlib.crc32(data);
    const size = entry.declaredSize ?? data.length;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(entry.unixMode === undefined ? 20 : (3 << 8) | 30, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((entry.unixMode ?? 0) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + compressed.length;
  }

  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

type TarEntrySpec = { name: string; data?: Buffer; type?: 'file' | 'directory' | 'symlink' | 'character-device'; linkname?: string };

async function buildTar(entries: TarEntrySpec[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    if (type === 'file') {
      const data = entry.data ?? Buffer.alloc(0);
      pack.entry({ name: entry.name, type, size: data.length }, data);
    } else {
      pack.entry({ name: entry.name, type, size: 0, ...(entry.linkname ? { linkname: entry.linkname } : {}) });
    }
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

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

function childAt(document: ExtractedDocument, childPath: string): ExtractedChild {
  const child = document.children?.find((candidate) => candidate.path === childPath);
  if (!child) {
    throw new Error(`no child ${childPath}; children are ${document.children?.map((candidate) => candidate.path).join(', ')}`);
  }
  return child;
}

const text = (value: string): Buffer => Buffer.from(value, 'utf8');

// Formats whose extractors exist in this module: members of other formats may fail as
// unsupported, so only these members' outcomes are asserted.
const MIXED_MEMBERS_WITH_TEXT: [string, string][] = [
  ['testHTML.html', 'Test Indexation Html'],
  ['testTXT.txt', "Test d'indexation de Txt"],
  ['testPDF.pdf', 'Apache Tika'],
  ['testXML.xml', 'Rida Benjelloun'],
];

describe('ZIP extraction', () => {
  it('flattens a ZIP inside a ZIP', async () => {
    const document = await extractDocument(readCorpus('zip-containing-zip-with-html.zip'), 'outer.zip', ZIP);

    expect(document.text).toBe('');
    expect(document.children?.map((child) => child.path)).toEqual(['html-within-zip.zip', 'html-within-zip.zip/text.html']);
    expect(childAt(document, 'html-within-zip.zip').document?.contentType).toBe(ZIP);
    const html = childAt(document, 'html-within-zip.zip/text.html').document;
    expect(html?.contentType).toBe('text/html');
    expect(html?.text).toContain('This is just some text.');
    expect(document.metadata).toMatchObject({ archive_format: 'zip', entry_count: 1, member_count: 1 });
  });

  it('reports each member of a mixed ZIP on its own', async () => {
    const document = await extractDocument(readCorpus('zip-mixed-office-pdf-html-xml.zip'), 'mixed.zip', ZIP);

    expect(document.children?.map((child) => child.path)).toEqual([
      'testEXCEL.xls',
      'testHTML.html',
      'testOpenOffice2.odt',
      'testPDF.pdf',
      'testPPT.ppt',
      'testRTF.rtf',
      'testTXT.txt',
      'testWORD.doc',
      'testXML.xml',
    ]);
    for (const [member, phrase] of MIXED_MEMBERS_WITH_TEXT) {
      const child = childAt(document, member);
      expect(child.error).toBeUndefined();
      expect(child.document?.text).toContain(phrase);
    }
    for (const child of document.children ?? []) {
      expect(Boolean(child.document) !== Boolean(child.error)).toBe(true);
    }
  });

  it('rejects the corrupt ZIP with a bogus 4 GiB entry', async () => {
    const error = await errorOf(extractDocument(readCorpus('zip-corrupted-bogus-4gib-entry-size.zip'), 'corrupt.zip', ZIP));

    expect(error.code).toBe('archive_damaged');
    expect(error.message).toContain('corrupt.zip');
  });

  it('rejects a bogus declared size before inflating', async () => {
    const zip = buildZip([{ name: 'huge.txt', data: text('small'), declaredSize: 0x7fffffff }]);

    const error = await errorOf(extractDocument(zip, 'bomb.zip', ZIP));
    expect(error.code).toBe('archive_ratio_exceeded');
    expect(error.details).toMatchObject({ entry_name: 'huge.txt', max_compression_ratio: 200 });
  });

  it('rejects a total declared size above maxTotalBytes', async () => {
    const zip = buildZip([
      { name: 'a.txt', data: Buffer.alloc(600 * 1024, 'a'), method: 0 },
      { name: 'b.txt', data: Buffer.alloc(600 * 1024, 'b'), method: 0 },
    ]);

    const error = await errorOf(extractDocument(zip, 'big.zip', ZIP, { containerLimits: { maxTotalBytes: 1024 * 1024 } }));
    expect(error.code).toBe('archive_too_large');
    expect(error.details).toMatchObject({ max_total_bytes: 1024 * 1024 });
  });

  it('rejects a deflate bomb by its ratio', async () => {
    const zip = buildZip([{ name: 'zeros.txt', data: Buffer.alloc(20 * 1024 * 1024) }]);

    expect((await errorOf(extractDocument(zip, 'bomb.zip', ZIP))).code).toBe('archive_ratio_exceeded');
  });

  it('stops inflating at a size that lies low', async () => {
    const zip = buildZip([
      { name: 'liar.txt', data: Buffer.alloc(4 * 1024 * 1024, 'x'), declaredSize: 100 },
      { name: 'ok.txt', data: text('honest member') },
    ]);

    const document = await extractDocument(zip, 'liar.zip', ZIP);
    expect(childAt(document, 'liar.txt').error?.code).toBe('archive_entry_damaged');
    expect(childAt(document, 'ok.txt').document?.text).toBe('honest member');
  });

  it('rejects too many entries', async () => {
    const zip = buildZip(Array.from({ length: 11 }, (_, index) => ({ name: `file-${index}.txt`, data: text(`file ${index}`) })));

    const error = await errorOf(extractDocument(zip, 'many.zip', ZIP, { containerLimits: { maxEntries: 10 } }));
    expect(error.code).toBe('archive_too_many_entries');
  });

  it('counts entries of nested archives together', async () => {
    const inner = buildZip(Array.from({ length: 6 }, (_, index) => ({ name: `inner-${index}.txt`, data: text(`inner ${index}`) })));
    const outer = buildZip([
      { name: 'inner.zip', data: inner },
      ...Array.from({ length: 5 }, (_, index) => ({ name: `outer-${index}.txt`, data: text(`outer ${index}`) })),
    ]);

    const error = await errorOf(extractDocument(outer, 'outer.zip', ZIP, { containerLimits: { maxEntries: 10 } }));
    expect(error.code).toBe('archive_too_many_entries');
  });

  it('rejects nesting deeper than maxDepth', async () => {
    let archive = buildZip([{ name: 'deepest.txt', data: text('bottom') }]);
    for (let level = 0; level < 3; level += 1) {
      archive = buildZip([{ name: `level-${level}.zip`, data: archive }]);
    }

    const error = await errorOf(extractDocument(archive, 'deep.zip', ZIP));
    expect(error.code).toBe('archive_too_deep');
    expect(error.details).toMatchObject({ max_depth: 3 });
  });

  it('opens nesting at maxDepth', async () => {
    let archive = buildZip([{ name: 'deepest.txt', data: text('bottom') }]);
    archive = buildZip([{ name: 'level-1.zip', data: archive }]);
    archive = buildZip([{ name: 'level-0.zip', data: archive }]);

    const document = await extractDocument(archive, 'deep.zip', ZIP);
    expect(childAt(document, 'level-0.zip/level-1.zip/deepest.txt').document?.text).toBe('bottom');
    await expect(extractDocument(archive, 'deep.zip', ZIP, { containerLimits: { maxDepth: 2 } })).rejects.toMatchObject({
      code: 'archive_too_deep',
    });
  });

  it('keeps entry names inside the archive', async () => {
    const zip = buildZip([
      { name: '../../etc/passwd', data: text('climbing') },
      { name: '/absolute/path.txt', data: text('absolute') },
      { name: 'C:\\Windows\\win.txt', data: text('drive letter') },
      { name: './a/./b/../c.txt', data: text('dots') },
    ]);

    const document = await extractDocument(zip, 'paths.zip', ZIP);
    expect(document.children?.map((child) => child.path)).toEqual(['etc/passwd', 'absolute/path.txt', 'Windows/win.txt', 'a/b/c.txt']);
    expect(childAt(document, 'etc/passwd').document?.text).toBe('climbing');
  });

  it('skips directories and links', async () => {
    const zip = buildZip([
      { name: 'docs/', data: Buffer.alloc(0), method: 0 },
      { name: 'docs/link', data: text('/etc/passwd'), method: 0, unixMode: 0o120777 },
      { name: 'docs/device', data: Buffer.alloc(0), method: 0, unixMode: 0o020644 },
      { name: 'docs/readme.txt', data: text('readme'), unixMode: 0o100644 },
    ]);

    const document = await extractDocument(zip, 'tree.zip', ZIP);
    expect(document.children?.map((child) => child.path)).toEqual(['docs/readme.txt']);
    expect(document.metadata).toMatchObject({ entry_count: 4, member_count: 1, skipped_entry_count: 3 });
  });

  it('rejects a ZIP with only directories', async () => {
    const zip = buildZip([{ name: 'empty/', method: 0 }]);

    expect((await errorOf(extractDocument(zip, 'dirs.zip', ZIP))).code).toBe('archive_empty');
  });

  it('decodes CP437 names without the UTF-8 flag', async () => {
    const name = Buffer.concat([Buffer.from('R', 'latin1'), Buffer.from([0x82]), Buffer.from('sum', 'latin1'), Buffer.from([0x82]), Buffer.from('.txt', 'latin1')]);
    const zip = buildZip([{ name, data: text('cv'), utf8Flag: false }]);

    const document = await extractDocument(zip, 'cp437.zip', ZIP);
    expect(document.children?.[0].path).toBe('Résumé.txt');
    expect(document.metadata.entry_name_encoding).toBe('cp437');
  });

  it('detects GBK names without the UTF-8 flag', async () => {
    const zip = buildZip([
      { name: iconv.encode('中文文档/报告.txt', 'gbk'), data: text('report'), utf8Flag: false },
      { name: iconv.encode('说明.txt', 'gbk'), data: text('notes'), utf8Flag: false },
    ]);

    const document = await extractDocument(zip, 'gbk.zip', ZIP);
    expect(document.children?.map((child) => child.path)).toEqual(['中文文档/报告.txt', '说明.txt']);
    expect(document.metadata.entry_name_encoding).toBe('gbk');
  });

  it('reads UTF-8 names with and without the flag', async () => {
    const flagged = await extractDocument(buildZip([{ name: 'naïve/東京.txt', data: text('flagged') }]), 'utf8.zip', ZIP);
    const unflagged = await extractDocument(
      buildZip([{ name: Buffer.from('naïve/東京.txt', 'utf8'), data: text('unflagged'), utf8Flag: false }]),
      'utf8.zip',
      ZIP,
    );

    expect(flagged.children?.[0].path).toBe('naïve/東京.txt');
    expect(unflagged.children?.[0].path).toBe('naïve/東京.txt');
  });

  it('isolates failing members', async () => {
    const zip = buildZip([
      { name: 'good.txt', data: text('good member') },
      { name: 'empty.txt', data: Buffer.alloc(0) },
      { name: 'broken.pdf', data: text('%PDF-1.7 this is not a real PDF') },
      { name: 'secret.txt', data: text('locked'), encrypted: true },
      { name: 'image.png', data: Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex') },
      { name: 'good.txt', data: text('second copy') },
    ]);

    const document = await extractDocument(zip, 'mixed.zip', ZIP);
    expect(document.children?.map((child) => child.path)).toEqual([
      'good.txt',
      'empty.txt',
      'broken.pdf',
      'secret.txt',
      'image.png',
      'good.txt (2)',
    ]);
    expect(childAt(document, 'good.txt').document?.text).toBe('good member');
    expect(childAt(document, 'empty.txt').error?.code).toBe('empty_document');
    expect(childAt(document, 'broken.pdf').error?.code).toBe('pdf_damaged');
    expect(childAt(document, 'secret.txt').error?.code).toBe('archive_entry_encrypted');
    expect(childAt(document, 'image.png').error?.code).toBe('unsupported_content_type');
    expect(childAt(document, 'good.txt (2)').document?.text).toBe('second copy');
  });

  it('rejects data that is not a ZIP', async () => {
    expect((await errorOf(extractDocument(text('not a zip at all'), 'fake.zip', ZIP))).code).toBe('archive_damaged');
  });

  it('rejects invalid container limits', async () => {
    const zip = buildZip([{ name: 'a.txt', data: text('a') }]);
    const options: InternalExtractOptions = { containerLimits: { maxEntries: 0 } };

    await expect(extractDocument(zip, 'a.zip', ZIP, options)).rejects.toThrow(RangeError);
  });
});

describe('TAR and gzip extraction', () => {
  it('flattens a TGZ inside a TAR', async () => {
    const document = await extractDocument(readCorpus('tar-nested-folder-tgz-txt.tar'), 'nested.tar', TAR);

    expect(document.children?.map((child) => child.path)).toEqual([
      'folderContainingTgz/inner/nested.tgz',
      'folderContainingTgz/inner/nested.tgz/folderWithinTgz/testTXT.txt',
    ]);
    const leaf = childAt(document, 'folderContainingTgz/inner/nested.tgz/folderWithinTgz/testTXT.txt').document;
    expect(leaf?.text).toContain("Test d'indexation de Txt");
    expect(document.metadata).toMatchObject({ archive_format: 'tar', entry_count: 3, member_count: 1, skipped_entry_count: 2 });
    expect(childAt(document, 'folderContainingTgz/inner/nested.tgz').document?.metadata).toMatchObject({
      archive_format: 'tar+gzip',
    });
  });

  it('extracts the members of a TGZ', async () => {
    const document = await extractDocument(readCorpus('tgz-mixed-documents.tgz'), 'mixed.tgz', GZIP);

    expect(document.children).toHaveLength(9);
    for (const [member, phrase] of MIXED_MEMBERS_WITH_TEXT) {
      expect(childAt(document, `test-documents/${member}`).document?.text).toContain(phrase);
    }
    expect(document.metadata).toMatchObject({ archive_format: 'tar+gzip', member_count: 9, skipped_entry_count: 1 });
  });

  it('extracts a gzipped single file as that file', async () => {
    const document = await extractDocument(readCorpus('gz-gzipped-odf-content-xml.xml.gz'), 'gz-gzipped-odf-content-xml.xml.gz', GZIP);

    expect(document.contentType).toBe(GZIP);
    expect(document.children).toBeUndefined();
    expect(document.text).toMatch(/^S0BAC21-Specimen 2 – corrigé\n\nexercice 1\n\n1\.a, 2\.c, 3\.d, 4\.b, 5\.c/);
    expect(document.text).toContain('le trinôme est négatif entre les racines');
    expect(document.metadata).toMatchObject({
      compression: 'gzip',
      uncompressed_file_name: 'gz-gzipped-odf-content-xml.xml',
      uncompressed_content_type: 'application/xml',
    });
  });

  it('names a gzip payload after the stored name', async () => {
    const gz = zlib.gzipSync(text('# Notes\n\nMarkdown inside gzip'));
    // Sets FNAME (flag 0x08) by hand, because zlib does not write a name.
    const named = Buffer.concat([gz.subarray(0, 3), Buffer.from([0x08]), gz.subarray(4, 10), Buffer.from('notes.md\0', 'latin1'), gz.subarray(10)]);

    const document = await extractDocument(named, 'upload', GZIP);
    expect(document.metadata).toMatchObject({ uncompressed_file_name: 'notes.md', uncompressed_content_type: 'text/markdown' });
    expect(document.title).toBe('Notes');
  });

  it('skips TAR links and devices and normalises names', async () => {
    const archive = await buildTar([
      { name: 'dir', type: 'directory' },
      { name: 'dir/link', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'dir/tty', type: 'character-device' },
      { name: '../escape.txt', data: text('escaped') },
    ]);

    const document = await extractDocument(archive, 'links.tar', TAR);
    expect(document.children?.map((child) => child.path)).toEqual(['escape.txt']);
    expect(document.metadata).toMatchObject({ entry_count: 4, skipped_entry_count: 3 });
  });

  it('rejects a TAR with only directories', async () => {
    const archive = await buildTar([{ name: 'only-dir', type: 'directory' }]);

    expect((await errorOf(extractDocument(archive, 'dirs.tar', TAR))).code).toBe('archive_empty');
  });

  it('rejects a truncated TAR', async () => {
    const archive = await buildTar([{ name: 'a.txt', data: Buffer.alloc(4096, 'a') }]);

    expect((await errorOf(extractDocument(archive.subarray(0, 1500), 'cut.tar', TAR))).code).toBe('archive_damaged');
  });

  it('rejects a gzip bomb while inflating', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024));

    expect((await errorOf(extractDocument(bomb, 'zeros.txt.gz', GZIP))).code).toBe('archive_ratio_exceeded');
  });

  it('rejects gzip output above maxTotalBytes', async () => {
    const payload = Buffer.from(Array.from({ length: 300_000 }, (_, index) => `line ${index}\n`).join(''));
    const gz = zlib.gzipSync(payload);

    const error = await errorOf(extractDocument(gz, 'lines.txt.gz', GZIP, { containerLimits: { maxTotalBytes: 1024 * 1024 } }));
    expect(error.code).toBe('archive_too_large');
  });

  it('rejects a TGZ bomb while inflating', async () => {
    const tgz = zlib.gzipSync(await buildTar([{ name: 'zeros.bin', data: Buffer.alloc(20 * 1024 * 1024) }]));

    expect((await errorOf(extractDocument(tgz, 'bomb.tgz', GZIP))).code).toBe('archive_ratio_exceeded');
  });

  it('rejects truncated gzip', async () => {
    const gz = zlib.gzipSync(Buffer.from('some text that will be cut off '.repeat(100)));

    expect((await errorOf(extractDocument(gz.subarray(0, gz.length / 2), 'cut.txt.gz', GZIP))).code).toBe('archive_damaged');
  });

  it('accepts a TGZ sent as application/x-tar', async () => {
    const document = await extractDocument(readCorpus('tgz-mixed-documents.tgz'), 'mixed.tgz', TAR);

    expect(document.children).toHaveLength(9);
  });
});
