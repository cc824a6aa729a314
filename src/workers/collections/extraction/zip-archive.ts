import * as iconv from 'iconv-lite';
import * as yauzl from 'yauzl';

import { InvalidInputError } from 'src/common/app-error';
import { readBounded } from 'src/workers/collections/extraction/bounded-read';
import { ContainerBudget, RATIO_GRACE_BYTES } from 'src/workers/collections/extraction/container-limits';
import { ContainerMember, normalizeMemberPath } from 'src/workers/collections/extraction/container-members';

/** Encoding of entry names stored without the UTF-8 flag (APPNOTE 4.4.4, bit 11). */
export type LegacyNameEncoding = 'cp437' | 'gbk' | 'utf-8';

export interface ZipListing {
  /** File entries in central directory order. Directories, links and devices are left out. */
  files: { entry: yauzl.Entry; path: string }[];
  /** Entries of the central directory, members and skipped ones alike. */
  entryCount: number;
  skippedCount: number;
  legacyNameEncoding?: LegacyNameEncoding;
  /** Inflates the files one at a time, each only when the consumer requests the next one. */
  members(): AsyncGenerator<ContainerMember>;
  close(): void;
}

const UTF8_NAME_FLAG = 0x800;
const INFO_ZIP_UNICODE_PATH_FIELD = 0x7075;
const UNIX_HOST = 3;
const MSDOS_DIRECTORY_ATTRIBUTE = 0x10;
const FILE_TYPE_MASK = 0o170000;
const REGULAR_FILE = 0o100000;
const DIRECTORY = 0o040000;

/**
 * Reads the central directory of a ZIP archive held in memory and checks it against the
 * budget before anything is inflated: the entry count, the sum of declared sizes and each
 * declared compression ratio. Throws `archive_damaged` when the directory cannot be read.
 */
export async function openZipArchive(data: Buffer, fileName: string, budget: ContainerBudget): Promise<ZipListing> {
  let zipFile: yauzl.ZipFile;
  try {
    // decodeStrings is off because yauzl rejects the whole archive for an absolute or `..`
    // entry name, while such names are normalised here. Names are decoded below.
    zipFile = await yauzl.fromBufferPromise(data, { lazyEntries: true, autoClose: false, decodeStrings: false });
  } catch (error) {
    throw zipDamagedError(fileName, error);
  }

  try {
    budget.addEntries(zipFile.entryCount, fileName);
    const entries = await readCentralDirectory(zipFile, fileName);
    const legacyNameEncoding = detectLegacyNameEncoding(entries);

    const files: ZipListing['files'] = [];
    let declaredBytes = 0;
    entries.forEach((entry, index) => {
      const name = decodeEntryName(entry, legacyNameEncoding);
      if (!isRegularFile(entry, name)) {
        return;
      }
      const path = normalizeMemberPath(name) || `entry-${index + 1}`;
      checkDeclaredRatio(entry, path, fileName, budget);
      declaredBytes += entry.uncompressedSize;
      files.push({ entry, path });
    });
    if (declaredBytes > budget.remainingBytes()) {
      throw budget.tooLargeError(fileName);
    }

    return {
      files,
      entryCount: entries.length,
      skippedCount: entries.length - files.length,
      ...(legacyNameEncoding ? { legacyNameEncoding } : {}),
      members: () => inflateMembers(zipFile, files, fileName, budget),
      close: () => zipFile.close(),
    };
  } catch (error) {
    zipFile.close();
    throw error;
  }
}

async function readCentralDirectory(zipFile: yauzl.ZipFile, fileName: string): Promise<yauzl.Entry[]> {
  const entries: yauzl.Entry[] = [];
  try {
    for await (const entry of zipFile.eachEntry()) {
      entries.push(entry);
    }
  } catch (error) {
    throw zipDamagedError(fileName, error);
  }
  return entries;
}

async function* inflateMembers(
  zipFile: yauzl.ZipFile,
  files: ZipListing['files'],
  fileName: string,
  budget: ContainerBudget,
): AsyncGenerator<ContainerMember> {
  for (const { entry, path } of files) {
    const unreadable = unreadableEntryError(entry, path, fileName);
    if (unreadable) {
      yield { path, error: unreadable };
      continue;
    }

    let data: Buffer;
    try {
      const stream = await zipFile.openReadStreamPromise(entry);
      data = await readBounded(stream, { budget, fileName, entryName: path, compressedSize: entry.compressedSize });
    } catch (error) {
      if (error instanceof InvalidInputError) {
        throw error;
      }
      const reason = error instanceof Error ? error.message : String(error);
      yield {
        path,
        error: {
          code: 'archive_entry_damaged',
          message: `Entry "${path}" of "${fileName}" could not be unpacked (${reason}). Re-create the archive.`,
        },
      };
      continue;
    }
    yield { path, data };
  }
}

function unreadableEntryError(entry: yauzl.Entry, path: string, fileName: string): { code: string; message: string } | undefined {
  if (entry.isEncrypted()) {
    return {
      code: 'archive_entry_encrypted',
      message: `Entry "${path}" of "${fileName}" is password-protected. Re-create the archive without a password.`,
    };
  }
  // yauzl inflates method 8 (deflate) and reads method 0 (stored); others such as bzip2,
  // LZMA or Zstandard are not supported.
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    return {
      code: 'archive_entry_unsupported_compression',
      message: `Entry "${path}" of "${fileName}" uses ZIP compression method ${entry.compressionMethod}, which is not supported. Re-create the archive with deflate compression.`,
    };
  }
  return undefined;
}

function checkDeclaredRatio(entry: yauzl.Entry, path: string, fileName: string, budget: ContainerBudget): void {
  const maxBytes = Math.max(entry.compressedSize * budget.limits.maxCompressionRatio, RATIO_GRACE_BYTES);
  if (entry.uncompressedSize > maxBytes) {
    throw budget.ratioExceededError(fileName, path);
  }
}

function isRegularFile(entry: yauzl.Entry, name: string): boolean {
  if (name.endsWith('/') || name.endsWith('\\') || (entry.externalFileAttributes & MSDOS_DIRECTORY_ATTRIBUTE) !== 0) {
    return false;
  }
  if (entry.versionMadeBy >> 8 === UNIX_HOST) {
    const fileType = (entry.externalFileAttributes >>> 16) & FILE_TYPE_MASK;
    // Type 0 means the writer stored no Unix mode, which some tools do for plain files.
    return fileType === 0 || fileType === REGULAR_FILE;
  }
  return true;
}

function isDirectoryMode(entry: yauzl.Entry): boolean {
  return ((entry.externalFileAttributes >>> 16) & FILE_TYPE_MASK) === DIRECTORY;
}

function hasUtf8Name(entry: yauzl.Entry): boolean {
  return (entry.generalPurposeBitFlag & UTF8_NAME_FLAG) !== 0;
}

function hasUnicodePathField(entry: yauzl.Entry): boolean {
  return entry.extraFields.some((field) => field.id === INFO_ZIP_UNICODE_PATH_FIELD);
}

function rawName(entry: yauzl.Entry): Buffer {
  return entry.fileNameRaw;
}

/**
 * Decodes an entry name: UTF-8 when the flag is set, the Info-ZIP Unicode Path extra field
 * when present (yauzl checks its CRC), otherwise the archive's legacy encoding.
 */
export function decodeEntryName(entry: yauzl.Entry, legacyEncoding: LegacyNameEncoding | undefined): string {
  const raw = rawName(entry);
  if (hasUtf8Name(entry) || hasUnicodePathField(entry)) {
    return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, false);
  }
  const name = iconv.decode(raw, legacyEncoding ?? 'cp437');
  return isDirectoryMode(entry) && !name.endsWith('/') ? `${name}/` : name;
}

/**
 * Picks one encoding for all non-ASCII names stored without the UTF-8 flag. The ZIP
 * specification (APPNOTE appendix D) defines such names as CP437, but archivers write names in
 * the system code page. So names that are valid UTF-8 are read as UTF-8 (macOS and Linux
 * tools). Names that pair up as GBK double-byte characters, mostly in the GB2312 hanzi rows,
 * are read as GBK (Chinese Windows). Western CP437 names rarely pass that test, because their accented
 * letters (0x80-0xA5) are followed by ASCII bytes.
 */
export function detectLegacyNameEncoding(entries: yauzl.Entry[]): LegacyNameEncoding | undefined {
  const names = entries
    .filter((entry) => !hasUtf8Name(entry) && !hasUnicodePathField(entry))
    .map(rawName)
    .filter((name) => name.some((byte) => byte >= 0x80));
  if (names.length === 0) {
    return undefined;
  }
  if (names.every(isValidUtf8)) {
    return 'utf-8';
  }
  return looksLikeGbk(names) ? 'gbk' : 'cp437';
}

function isValidUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function looksLikeGbk(names: Buffer[]): boolean {
  let pairs = 0;
  let hanziPairs = 0;
  for (const name of names) {
    for (let index = 0; index < name.length; index += 1) {
      const lead = name[index];
      if (lead < 0x80) {
        continue;
      }
      const trail = name[index + 1];
      const isGbkPair = lead >= 0x81 && lead <= 0xfe && trail !== undefined && trail >= 0x40 && trail <= 0xfe && trail !== 0x7f;
      if (!isGbkPair) {
        return false;
      }
      pairs += 1;
      if (lead >= 0xb0 && lead <= 0xf7 && trail >= 0xa1) {
        hanziPairs += 1;
      }
      index += 1;
    }
  }
  return pairs > 0 && hanziPairs * 2 >= pairs;
}

function zipDamagedError(fileName: string, error: unknown): InvalidInputError {
  const reason = error instanceof Error ? error.message : String(error);
  return new InvalidInputError(
    'archive_damaged',
    `ZIP archive "${fileName}" could not be read (${reason}). The file is damaged or truncated, so re-create the archive.`,
    { file_name: fileName, format: 'zip', reason },
    { cause: error },
  );
}
