import { deflateRawSync } from 'node:zlib';

import { InvalidInputError } from 'src/common/app-error';
import { PackageFormat, resolvePartName, ZipPackage } from 'src/workers/collections/extraction/office-package';
import { buildStoredZip } from 'src/workers/collections/extraction/stored-zip.fixture';
import { scanXml } from 'src/workers/collections/extraction/xml-scanner';

const FORMAT: PackageFormat = { label: 'TEST', codePrefix: 'test', application: 'the editor' };

async function errorCode(work: Promise<unknown>): Promise<string> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (error instanceof InvalidInputError) {
    return error.code;
  }
  throw new Error(`expected an InvalidInputError, got ${String(error)}`);
}

/** Builds a ZIP whose only entry is deflated but declares `declaredSize` uncompressed bytes. */
function zipDeclaringSize(declaredSize: number): Buffer {
  const deflated = deflateRawSync(Buffer.from('<a/>'));
  const zip = buildStoredZip({ 'big.xml': deflated });
  // Local header: method at 8, uncompressed size at 22. Central header: method at 10, size at 24.
  const central = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  zip.writeUInt16LE(8, 8);
  zip.writeUInt32LE(declaredSize, 22);
  zip.writeUInt16LE(8, central + 10);
  zip.writeUInt32LE(declaredSize, central + 24);
  return zip;
}

describe('ZipPackage', () => {
  it('reads entries without regard to case and returns undefined for missing ones', async () => {
    const zip = await ZipPackage.open(buildStoredZip({ 'Word/Document.xml': '<a>x</a>' }), 'a.test', FORMAT);

    await expect(zip.readXml('word/document.xml')).resolves.toBe('<a>x</a>');
    await expect(zip.readXml('/WORD/DOCUMENT.XML')).resolves.toBe('<a>x</a>');
    await expect(zip.readXml('missing.xml')).resolves.toBeUndefined();
    expect(zip.entryNames).toEqual(['Word/Document.xml']);
  });

  it('rejects an entry that declares more than the part limit', async () => {
    const zip = await ZipPackage.open(zipDeclaringSize(0x7fffffff), 'bomb.test', FORMAT);

    await expect(errorCode(zip.readBytes('big.xml'))).resolves.toBe('test_too_large');
  });

  it('rejects an entry that inflates to a size other than declared', async () => {
    const zip = await ZipPackage.open(zipDeclaringSize(2), 'lie.test', FORMAT);

    await expect(errorCode(zip.readBytes('big.xml'))).resolves.toBe('test_damaged');
  });

  it('rejects data that is not a ZIP file', async () => {
    await expect(errorCode(ZipPackage.open(Buffer.from('not a zip at all, just text'), 'a.test', FORMAT))).resolves.toBe(
      'test_damaged',
    );
  });

  it('turns XML syntax errors into damaged-package errors', async () => {
    const zip = await ZipPackage.open(buildStoredZip({ 'a.xml': '<a><b' }), 'a.test', FORMAT);

    await expect(errorCode(zip.scanPart('a.xml', (xml) => scanXml(xml, {})))).resolves.toBe('test_damaged');
  });

  it('reads relationships with resolved targets and without external ones', async () => {
    const zip = await ZipPackage.open(
      buildStoredZip({
        'word/_rels/document.xml.rels':
          '<Relationships><Relationship Id="r1" Type="t/header" Target="header1.xml"/>' +
          '<Relationship Id="r2" Type="t/link" Target="http://example.com/" TargetMode="External"/>' +
          '<Relationship Id="r3" Type="t/image" Target="../media/a%20b.png"/></Relationships>',
      }),
      'a.test',
      FORMAT,
    );

    await expect(zip.readRelationships('word/document.xml')).resolves.toEqual([
      { id: 'r1', type: 't/header', target: 'word/header1.xml' },
      { id: 'r3', type: 't/image', target: 'media/a b.png' },
    ]);
  });
});

describe('resolvePartName', () => {
  it.each([
    ['word/document.xml', 'media/image1.png', 'word/media/image1.png'],
    ['ppt/slides/slide1.xml', '../notesSlides/notesSlide1.xml', 'ppt/notesSlides/notesSlide1.xml'],
    ['xl/workbook.xml', '/xl/worksheets/sheet1.xml', 'xl/worksheets/sheet1.xml'],
    ['OPS/toc.ncx', 'chapters/one.html#part2', 'OPS/chapters/one.html'],
    ['', 'word/document.xml', 'word/document.xml'],
  ])('resolves %s + %s as %s', (source, target, expected) => {
    expect(resolvePartName(source, target)).toBe(expected);
  });
});
