import * as iconv from 'iconv-lite';

/** A file that is not a valid OLE2 compound file, or whose structures point outside it. */
export class CompoundFileError extends Error {}

interface DirectoryEntry {
  name: string;
  /** 1 storage, 2 stream, 5 root storage (MS-CFB). */
  type: number;
  left: number;
  right: number;
  child: number;
  startSector: number;
  size: number;
}

export const OLE2_SIGNATURE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

const HEADER_BYTES = 512;
const HEADER_DIFAT_ENTRIES = 109;
const DIRECTORY_ENTRY_BYTES = 128;
const NO_STREAM = 0xffffffff;
const END_OF_CHAIN = 0xfffffffe;
// Sector numbers above this value are markers (free, end of chain, FAT or DIFAT sector).
const MAX_REGULAR_SECTOR = 0xfffffffa;

/**
 * Reader for the streams at the root of an OLE2 compound file (MS-CFB), the container of
 * Word 97-2003, Excel 97-2003 and PowerPoint 97-2003 files. Every sector chain is checked
 * against the file size and for loops, so a damaged file fails with `CompoundFileError`
 * instead of reading out of bounds or looping.
 * Limitation: only streams directly below the root storage can be read, which is where
 * the Office formats keep their document streams.
 */
export class CompoundFile {
  private readonly sectorSize: number;
  /** Sectors after the header, which bounds the length of any valid chain. */
  private readonly sectorCount: number;
  private readonly fat: Uint32Array;
  private readonly entries: DirectoryEntry[];
  private miniFat: Uint32Array | undefined;
  private miniStream: Buffer | undefined;
  private readonly miniStreamCutoff: number;
  private readonly miniSectorSize: number;

  constructor(private readonly data: Buffer) {
    if (data.length < HEADER_BYTES || !data.subarray(0, OLE2_SIGNATURE.length).equals(OLE2_SIGNATURE)) {
      throw new CompoundFileError('the OLE2 signature is missing');
    }
    const sectorShift = data.readUInt16LE(0x1e);
    const miniSectorShift = data.readUInt16LE(0x20);
    if (sectorShift !== 9 && sectorShift !== 12) {
      throw new CompoundFileError(`sector shift ${sectorShift} is invalid`);
    }
    if (miniSectorShift !== 6) {
      throw new CompoundFileError(`mini sector shift ${miniSectorShift} is invalid`);
    }
    this.sectorSize = 1 << sectorShift;
    this.sectorCount = Math.ceil((data.length - HEADER_BYTES) / this.sectorSize);
    this.miniSectorSize = 1 << miniSectorShift;
    this.miniStreamCutoff = data.readUInt32LE(0x38);
    this.fat = this.readFat();

    const directory = this.readChain(data.readUInt32LE(0x30));
    this.entries = [];
    for (let offset = 0; offset + DIRECTORY_ENTRY_BYTES <= directory.length; offset += DIRECTORY_ENTRY_BYTES) {
      this.entries.push(parseDirectoryEntry(directory, offset));
    }
    if (this.entries.length === 0 || this.entries[0].type !== 5) {
      throw new CompoundFileError('the root directory entry is missing');
    }
  }

  /** Names of the streams directly below the root storage. */
  rootStreamNames(): string[] {
    return this.rootChildren()
      .filter((entry) => entry.type === 2)
      .map((entry) => entry.name);
  }

  /** Returns a stream directly below the root storage, matched without regard to case. */
  readStream(name: string): Buffer | undefined {
    const requested = name.toLowerCase();
    const entry = this.rootChildren().find((child) => child.type === 2 && child.name.toLowerCase() === requested);
    if (!entry) {
      return undefined;
    }
    if (entry.size < this.miniStreamCutoff) {
      return this.readMiniStream(entry);
    }
    return truncate(this.readChain(entry.startSector), entry.size);
  }

  private rootChildren(): DirectoryEntry[] {
    const children: DirectoryEntry[] = [];
    const visited = new Set<number>();
    const pending = [this.entries[0].child];
    while (pending.length > 0) {
      const index = pending.pop()!;
      if (index === NO_STREAM || index >= this.entries.length || visited.has(index)) {
        continue;
      }
      visited.add(index);
      const entry = this.entries[index];
      children.push(entry);
      pending.push(entry.left, entry.right);
    }
    return children;
  }

  /** Collects the FAT from the header's DIFAT entries and the DIFAT sector chain. */
  private readFat(): Uint32Array {
    const { data, sectorSize } = this;
    const fatSectorCount = data.readUInt32LE(0x2c);
    const maxSectors = this.sectorCount;
    if (fatSectorCount > maxSectors) {
      throw new CompoundFileError(`the header lists ${fatSectorCount} FAT sectors in a file of ${maxSectors} sectors`);
    }

    const fatSectors: number[] = [];
    for (let index = 0; index < HEADER_DIFAT_ENTRIES && fatSectors.length < fatSectorCount; index += 1) {
      fatSectors.push(data.readUInt32LE(0x4c + index * 4));
    }
    let difatSector = data.readUInt32LE(0x44);
    const entriesPerDifatSector = sectorSize / 4 - 1;
    let difatSteps = 0;
    while (fatSectors.length < fatSectorCount && difatSector <= MAX_REGULAR_SECTOR) {
      difatSteps += 1;
      if (difatSteps > maxSectors) {
        throw new CompoundFileError('the DIFAT chain loops');
      }
      const sector = this.sector(difatSector);
      for (let index = 0; index < entriesPerDifatSector && fatSectors.length < fatSectorCount; index += 1) {
        fatSectors.push(sector.readUInt32LE(index * 4));
      }
      difatSector = sector.readUInt32LE(entriesPerDifatSector * 4);
    }

    const fat = new Uint32Array((fatSectors.length * sectorSize) / 4);
    fatSectors.forEach((sectorNumber, sectorIndex) => {
      const sector = this.sector(sectorNumber);
      for (let index = 0; index < sectorSize / 4; index += 1) {
        fat[sectorIndex * (sectorSize / 4) + index] = sector.readUInt32LE(index * 4);
      }
    });
    return fat;
  }

  private sector(sectorNumber: number): Buffer {
    const start = (sectorNumber + 1) * this.sectorSize;
    if (sectorNumber > MAX_REGULAR_SECTOR || start >= this.data.length) {
      throw new CompoundFileError(`sector ${sectorNumber} lies outside the file`);
    }
    // The last sector of a file may be cut short, and what is there is read.
    return this.data.subarray(start, Math.min(start + this.sectorSize, this.data.length));
  }

  /** Concatenates the sectors of a FAT chain. */
  private readChain(startSector: number): Buffer {
    const sectors: Buffer[] = [];
    let current = startSector;
    while (current !== END_OF_CHAIN && current <= MAX_REGULAR_SECTOR) {
      if (sectors.length >= this.sectorCount || current >= this.fat.length) {
        throw new CompoundFileError(`the sector chain starting at ${startSector} is broken or loops`);
      }
      sectors.push(this.sector(current));
      current = this.fat[current];
    }
    return Buffer.concat(sectors);
  }

  private readMiniStream(entry: DirectoryEntry): Buffer {
    if (!this.miniFat || !this.miniStream) {
      const miniFatBytes = this.readChain(this.data.readUInt32LE(0x3c));
      this.miniFat = new Uint32Array(Math.floor(miniFatBytes.length / 4));
      for (let index = 0; index < this.miniFat.length; index += 1) {
        this.miniFat[index] = miniFatBytes.readUInt32LE(index * 4);
      }
      const root = this.entries[0];
      this.miniStream = truncate(this.readChain(root.startSector), root.size);
    }

    const chunks: Buffer[] = [];
    let current = entry.startSector;
    while (current !== END_OF_CHAIN && current <= MAX_REGULAR_SECTOR) {
      const start = current * this.miniSectorSize;
      const miniSectorCount = this.miniStream.length / this.miniSectorSize;
      if (chunks.length >= miniSectorCount || current >= this.miniFat.length || start >= this.miniStream.length) {
        throw new CompoundFileError(`the mini stream chain of "${entry.name}" is broken or loops`);
      }
      chunks.push(this.miniStream.subarray(start, start + this.miniSectorSize));
      current = this.miniFat[current];
    }
    return truncate(Buffer.concat(chunks), entry.size);
  }
}

function parseDirectoryEntry(directory: Buffer, offset: number): DirectoryEntry {
  const nameBytes = Math.min(directory.readUInt16LE(offset + 0x40), 64);
  // The name length counts the terminating null character.
  const name = directory.subarray(offset, offset + Math.max(0, nameBytes - 2)).toString('utf16le');
  return {
    name,
    type: directory[offset + 0x42],
    left: directory.readUInt32LE(offset + 0x44),
    right: directory.readUInt32LE(offset + 0x48),
    child: directory.readUInt32LE(offset + 0x4c),
    startSector: directory.readUInt32LE(offset + 0x74),
    // Version 3 files leave the high half undefined, and no valid stream here exceeds 4 GiB.
    size: directory.readUInt32LE(offset + 0x78),
  };
}

function truncate(buffer: Buffer, size: number): Buffer {
  return buffer.length > size ? buffer.subarray(0, size) : buffer;
}

// Property identifiers and types of the SummaryInformation property set (MS-OLEPS).
const PID_CODEPAGE = 1;
const PID_TITLE = 2;
const PID_AUTHOR = 4;
const VT_I2 = 0x02;
const VT_LPSTR = 0x1e;
const VT_LPWSTR = 0x1f;
const MAX_PROPERTIES = 1_000;

/**
 * Reads title and author from the `\x05SummaryInformation` stream of a compound file.
 * Returns an empty record when the stream is missing or malformed, because this metadata is
 * optional.
 */
export function readSummaryInformation(file: CompoundFile): { title?: string; author?: string } {
  const stream = file.readStream('\u0005SummaryInformation');
  if (!stream || stream.length < 48) {
    return {};
  }
  const sectionOffset = stream.readUInt32LE(44);
  if (sectionOffset + 8 > stream.length) {
    return {};
  }

  const propertyCount = Math.min(stream.readUInt32LE(sectionOffset + 4), MAX_PROPERTIES);
  const valueOffsets = new Map<number, number>();
  for (let index = 0; index < propertyCount; index += 1) {
    const entry = sectionOffset + 8 + index * 8;
    if (entry + 8 > stream.length) break;
    valueOffsets.set(stream.readUInt32LE(entry), sectionOffset + stream.readUInt32LE(entry + 4));
  }

  const codePageOffset = valueOffsets.get(PID_CODEPAGE);
  let codePage = 1252;
  if (codePageOffset !== undefined && codePageOffset + 6 <= stream.length && stream.readUInt16LE(codePageOffset) === VT_I2) {
    codePage = stream.readUInt16LE(codePageOffset + 4);
  }

  const readString = (propertyId: number): string | undefined => {
    const offset = valueOffsets.get(propertyId);
    if (offset === undefined || offset + 8 > stream.length) return undefined;
    const type = stream.readUInt32LE(offset);
    const length = stream.readUInt32LE(offset + 4);
    let value: string;
    if (type === VT_LPSTR) {
      const bytes = stream.subarray(offset + 8, Math.min(stream.length, offset + 8 + length));
      value = codePage === 1200 ? bytes.toString('utf16le') : decodeCodePage(bytes, codePage);
    } else if (type === VT_LPWSTR) {
      value = stream.subarray(offset + 8, Math.min(stream.length, offset + 8 + length * 2)).toString('utf16le');
    } else {
      return undefined;
    }
    const trimmed = value.replace(/\0[\s\S]*$/, '').trim();
    return trimmed === '' ? undefined : trimmed;
  };

  const title = readString(PID_TITLE);
  const author = readString(PID_AUTHOR);
  return { ...(title ? { title } : {}), ...(author ? { author } : {}) };
}

function decodeCodePage(bytes: Buffer, codePage: number): string {
  const name = codePage === 65001 ? 'utf-8' : `cp${codePage}`;
  return iconv.encodingExists(name) ? iconv.decode(bytes, name) : bytes.toString('latin1');
}
