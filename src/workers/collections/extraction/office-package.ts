import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as yauzl from 'yauzl';

import { InvalidInputError } from 'src/common/app-error';
import { decodeXmlBytes, localName, scanXml, XmlSyntaxError } from 'src/workers/collections/extraction/xml-scanner';

/** Names of a ZIP-based format in error codes and messages. */
export interface PackageFormat {
  /** Name in messages, such as `XLSX`. */
  label: string;
  /** Prefix of error codes, such as `xlsx` for `xlsx_damaged`. */
  codePrefix: string;
  /** Program that saves the format, for the advice in messages, such as `the spreadsheet application`. */
  application: string;
}

/** A relationship of an OOXML part (ECMA-376 Part 2, Open Packaging Conventions). */
export interface Relationship {
  id: string;
  /** Relationship type URI, such as `.../relationships/header`. */
  type: string;
  /** Part name of the target inside the package, without a leading slash. */
  target: string;
}

const OLE2_SIGNATURE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

// Office stores a password-protected OOXML file as an OLE2 compound file whose streams
// include "EncryptionInfo" and "EncryptedPackage" (MS-OFFCRYPTO). Directory entry names are UTF-16LE.
const ENCRYPTED_PACKAGE_STREAM = Buffer.from('EncryptedPackage', 'utf16le');

// Bounds on what one package may unpack. An XML part is decoded into one JavaScript string,
// and Node.js 20 on 64-bit platforms limits strings to 2^29 - 24 characters
// (`buffer.constants.MAX_STRING_LENGTH`), so a part must stay well below that. The total
// bounds the work for packages with many large parts.
const MAX_PART_BYTES = 256 * 1024 * 1024;
const MAX_TOTAL_BYTES = 1024 * 1024 * 1024;
const MAX_ENTRIES = 50_000;

/**
 * Rejects an OLE2 compound file given as an OOXML package: `<prefix>_encrypted` for a
 * password-protected package, `<prefix>_not_ooxml` for a legacy binary file such as `.xls`.
 */
export function rejectOle2Package(data: Buffer, fileName: string, format: PackageFormat, legacyExtension: string): void {
  if (!data.subarray(0, OLE2_SIGNATURE.length).equals(OLE2_SIGNATURE)) {
    return;
  }
  if (data.includes(ENCRYPTED_PACKAGE_STREAM)) {
    throw new InvalidInputError(
      `${format.codePrefix}_encrypted`,
      `${format.label} file "${fileName}" is password-protected. Remove the password in ${format.application} and upload it again.`,
      { file_name: fileName },
    );
  }
  throw new InvalidInputError(
    `${format.codePrefix}_not_ooxml`,
    `File "${fileName}" is an OLE2 compound file (such as a legacy .${legacyExtension}), not a ${format.label} package. Upload it with its legacy content type or save it as ${format.label}.`,
    { file_name: fileName },
  );
}

/** Error for a package that is not a valid ZIP file or lacks a part the format requires. */
export function damagedPackageError(
  fileName: string,
  format: PackageFormat,
  reason: string,
  cause?: unknown,
): InvalidInputError {
  return new InvalidInputError(
    `${format.codePrefix}_damaged`,
    `${format.label} file "${fileName}" could not be read (${reason}). The file is damaged or truncated, so save it again from ${format.application} and upload it again.`,
    { file_name: fileName, reason },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Read access to the entries of a ZIP-based document package (OOXML, OpenDocument, EPUB).
 * Entries are looked up without regard to case, as OPC part names compare, and read one at a
 * time on request, so only the parts an extractor needs are inflated. Every failure is an
 * `InvalidInputError` with a code of the package's format.
 */
export class ZipPackage {
  private bytesRead = 0;

  private constructor(
    private readonly zipFile: yauzl.ZipFile,
    private readonly entries: Map<string, yauzl.Entry>,
    private readonly fileName: string,
    private readonly format: PackageFormat,
  ) {}

  /** Reads the central directory of `data`. Fails with `<prefix>_damaged` when it is not a valid ZIP file. */
  static async open(data: Buffer, fileName: string, format: PackageFormat): Promise<ZipPackage> {
    let zipFile: yauzl.ZipFile;
    const entries = new Map<string, yauzl.Entry>();
    try {
      zipFile = await yauzl.fromBufferPromise(data, { lazyEntries: true, autoClose: false, validateEntrySizes: true });
      if (zipFile.entryCount > MAX_ENTRIES) {
        throw tooLargeError(fileName, format, `it has ${zipFile.entryCount} entries, more than ${MAX_ENTRIES}`);
      }
      for await (const entry of zipFile.eachEntry()) {
        entries.set(entry.fileName.toLowerCase(), entry);
      }
    } catch (error) {
      if (error instanceof InvalidInputError) {
        throw error;
      }
      throw damagedPackageError(fileName, format, errorMessage(error), error);
    }
    return new ZipPackage(zipFile, entries, fileName, format);
  }

  /** Entry names as stored, in central directory order. */
  get entryNames(): string[] {
    return [...this.entries.values()].map((entry) => entry.fileName);
  }

  has(name: string): boolean {
    return this.entries.has(normalizePartName(name));
  }

  /** Returns the inflated bytes of an entry, or undefined when the package has no such entry. */
  async readBytes(name: string): Promise<Buffer | undefined> {
    const entry = this.entries.get(normalizePartName(name));
    if (!entry || entry.fileName.endsWith('/')) {
      return undefined;
    }
    if (entry.isEncrypted()) {
      throw new InvalidInputError(
        `${this.format.codePrefix}_encrypted`,
        `${this.format.label} file "${this.fileName}" has encrypted entries such as "${entry.fileName}". Remove the password in ${this.format.application} and upload it again.`,
        { file_name: this.fileName, entry: entry.fileName },
      );
    }
    if (entry.uncompressedSize > MAX_PART_BYTES) {
      throw tooLargeError(
        this.fileName,
        this.format,
        `entry "${entry.fileName}" unpacks to ${entry.uncompressedSize} bytes, more than ${MAX_PART_BYTES}`,
      );
    }
    this.bytesRead += entry.uncompressedSize;
    if (this.bytesRead > MAX_TOTAL_BYTES) {
      throw tooLargeError(this.fileName, this.format, `its entries unpack to more than ${MAX_TOTAL_BYTES} bytes`);
    }

    try {
      const stream = await this.zipFile.openReadStreamPromise(entry);
      return await collectStream(stream);
    } catch (error) {
      throw damagedPackageError(this.fileName, this.format, `entry "${entry.fileName}": ${errorMessage(error)}`, error);
    }
  }

  /** Returns an entry decoded as XML text, or undefined when the package has no such entry. */
  async readXml(name: string): Promise<string | undefined> {
    const bytes = await this.readBytes(name);
    return bytes && decodeXmlBytes(bytes);
  }

  /** Like `readXml`, but fails with `<prefix>_damaged` when the entry is missing. */
  async readRequiredXml(name: string): Promise<string> {
    const xml = await this.readXml(name);
    if (xml === undefined) {
      throw damagedPackageError(this.fileName, this.format, `required part "${name}" is missing`);
    }
    return xml;
  }

  /**
   * Runs `scan` over an XML entry and turns XML syntax errors into `<prefix>_damaged`.
   * Returns false when the package has no such entry.
   */
  async scanPart(name: string, scan: (xml: string) => void): Promise<boolean> {
    const xml = await this.readXml(name);
    if (xml === undefined) {
      return false;
    }
    try {
      scan(xml);
    } catch (error) {
      if (error instanceof XmlSyntaxError) {
        throw damagedPackageError(this.fileName, this.format, `part "${name}": ${error.message}`, error);
      }
      throw error;
    }
    return true;
  }

  /** Relationships of an OOXML part, from `<folder>/_rels/<name>.rels`, without external targets. */
  async readRelationships(partName: string): Promise<Relationship[]> {
    const relationships: Relationship[] = [];
    await this.scanPart(relationshipsPartName(partName), (xml) =>
      scanXml(xml, {
        openElement: (name, attributes) => {
          if (localName(name) !== 'Relationship' || attributes.TargetMode === 'External') {
            return;
          }
          if (attributes.Id && attributes.Target) {
            relationships.push({
              id: attributes.Id,
              type: attributes.Type ?? '',
              target: resolvePartName(partName, attributes.Target),
            });
          }
        },
      }),
    );
    return relationships;
  }

  /** Title and author from the OOXML core properties part `docProps/core.xml`, when present. */
  async readCoreProperties(): Promise<{ title?: string; author?: string }> {
    const fields: Record<string, string> = {};
    let current: string | undefined;
    await this.scanPart('docProps/core.xml', (xml) =>
      scanXml(xml, {
        openElement: (name) => {
          current = localName(name);
        },
        closeElement: () => {
          current = undefined;
        },
        text: (text) => {
          if (current) fields[current] = (fields[current] ?? '') + text;
        },
      }),
    );
    const title = fields.title?.trim();
    const author = fields.creator?.trim();
    return { ...(title ? { title } : {}), ...(author ? { author } : {}) };
  }
}

/**
 * Resolves a relationship or manifest target against the part that refers to it, as in
 * `word/document.xml` + `media/a.png` = `word/media/a.png`. Leading slashes mean the package root.
 */
export function resolvePartName(sourcePart: string, target: string): string {
  let decoded = target.split('#')[0];
  try {
    decoded = decodeURIComponent(decoded);
  } catch {
    // A stray `%` is kept as written.
  }
  const resolved = decoded.startsWith('/')
    ? path.posix.normalize(decoded)
    : path.posix.join(path.posix.dirname(sourcePart), decoded);
  return resolved.replace(/^\/+/, '');
}

function relationshipsPartName(partName: string): string {
  if (partName === '') {
    return '_rels/.rels';
  }
  return path.posix.join(path.posix.dirname(partName), '_rels', `${path.posix.basename(partName)}.rels`);
}

function normalizePartName(name: string): string {
  return name.replace(/^\/+/, '').toLowerCase();
}

function tooLargeError(fileName: string, format: PackageFormat, reason: string): InvalidInputError {
  return new InvalidInputError(
    `${format.codePrefix}_too_large`,
    `${format.label} file "${fileName}" is too large to extract: ${reason}. Split the document into smaller files.`,
    { file_name: fileName, reason },
  );
}

async function collectStream(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
