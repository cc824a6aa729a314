import * as tar from 'tar-stream';

import { InvalidInputError } from 'src/common/app-error';
import { readBounded } from 'src/workers/collections/extraction/bounded-read';
import { ContainerBudget } from 'src/workers/collections/extraction/container-limits';
import { ContainerMember, normalizeMemberPath } from 'src/workers/collections/extraction/container-members';

export interface TarStats {
  /** Headers read so far, members and skipped entries alike. PAX and GNU name records are not counted. */
  entryCount: number;
  skippedCount: number;
}

const FILE_TYPES = new Set(['file', 'contiguous-file']);

const TAR_MAGIC_OFFSET = 257;
const TAR_HEADER_SIZE = 512;

/**
 * Reads the members of a TAR archive held in memory, one at a time. Directories, hard and
 * symbolic links, devices and FIFOs are skipped. Each member's bytes count against the budget
 * when `countBytes` is set; a TAR unpacked from gzip was already counted while inflating.
 * Throws `archive_damaged` for a header that is not TAR or for truncated data.
 */
export async function* readTarMembers(
  data: Buffer,
  fileName: string,
  budget: ContainerBudget,
  stats: TarStats,
  countBytes: boolean,
): AsyncGenerator<ContainerMember> {
  const extract = tar.extract();
  extract.end(data);

  try {
    for await (const entry of extract) {
      stats.entryCount += 1;
      budget.addEntries(1, fileName);

      const type = entry.header.type ?? 'file';
      if (!FILE_TYPES.has(type)) {
        stats.skippedCount += 1;
        entry.resume();
        continue;
      }

      const path = normalizeMemberPath(entry.header.name) || `entry-${stats.entryCount}`;
      const content = countBytes
        ? await readBounded(entry, { budget, fileName, entryName: path })
        : Buffer.concat(await collectChunks(entry));
      yield { path, data: content };
    }
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw error;
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidInputError(
      'archive_damaged',
      `TAR archive "${fileName}" could not be read (${reason}). The file is damaged or truncated, so re-create the archive.`,
      { file_name: fileName, format: 'tar', reason },
      { cause: error },
    );
  }
}

/**
 * Tells whether `data` starts with a TAR header: the POSIX `ustar` magic, or for pre-POSIX
 * archives a valid header checksum (the sum of the header bytes with the checksum field
 * counted as spaces).
 */
export function startsWithTarHeader(data: Buffer): boolean {
  if (data.length < TAR_HEADER_SIZE) {
    return false;
  }
  if (data.subarray(TAR_MAGIC_OFFSET, TAR_MAGIC_OFFSET + 5).toString('latin1') === 'ustar') {
    return true;
  }

  const stored = parseInt(data.subarray(148, 156).toString('latin1').replace(/\0.*$/, '').trim(), 8);
  if (!Number.isFinite(stored) || data[0] === 0) {
    return false;
  }
  let sum = 8 * 0x20;
  for (let index = 0; index < TAR_HEADER_SIZE; index += 1) {
    if (index < 148 || index >= 156) {
      sum += data[index];
    }
  }
  return sum === stored;
}

async function collectChunks(stream: AsyncIterable<unknown>): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
  }
  return chunks;
}
