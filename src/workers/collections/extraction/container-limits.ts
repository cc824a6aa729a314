import { InvalidInputError } from 'src/common/app-error';
import { ContainerLimits } from 'src/workers/collections/extraction/extraction.types';

export const DEFAULT_CONTAINER_LIMITS: Readonly<ContainerLimits> = {
  maxTotalBytes: 500 * 1024 * 1024,
  maxEntries: 10_000,
  maxDepth: 3,
  maxCompressionRatio: 200,
};

/**
 * Uncompressed size below which an entry's compression ratio is not checked. Small runs of
 * repeated bytes (blank spreadsheet rows, padding) compress far better than 200:1, while a
 * ratio bomb needs volume to do harm.
 */
export const RATIO_GRACE_BYTES = 1024 * 1024;

/**
 * Codes of limit violations. They fail the whole upload instead of one member, because they
 * mark a hostile or runaway file, and the time budget is shared by all members.
 */
export const FATAL_CONTAINER_ERROR_CODES: ReadonlySet<string> = new Set([
  'archive_too_large',
  'archive_too_many_entries',
  'archive_too_deep',
  'archive_ratio_exceeded',
  'extraction_timeout',
]);

/** Merges `overrides` into the defaults. Throws a RangeError for a value that is not an integer of at least 1 (0 for `maxDepth`). */
export function resolveContainerLimits(overrides: Partial<ContainerLimits> = {}): ContainerLimits {
  const limits = { ...DEFAULT_CONTAINER_LIMITS };
  for (const key of Object.keys(DEFAULT_CONTAINER_LIMITS) as (keyof ContainerLimits)[]) {
    const value = overrides[key];
    if (value === undefined) {
      continue;
    }
    // Depth 0 is meaningful: it rejects every container.
    const minimum = key === 'maxDepth' ? 0 : 1;
    if (!Number.isInteger(value) || value < minimum) {
      throw new RangeError(`Container limit ${key} must be an integer of at least ${minimum}, got ${value}`);
    }
    limits[key] = value;
  }
  return limits;
}

/**
 * Entry and byte counters shared by every container of one upload, nested ones included, so
 * that a bomb cannot multiply the limits by nesting (an archive of archives of archives).
 */
export class ContainerBudget {
  private entries = 0;
  private bytes = 0;

  constructor(
    readonly limits: ContainerLimits,
    /** Name of the uploaded file, used in error messages. */
    readonly rootFileName: string,
  ) {}

  remainingBytes(): number {
    return this.limits.maxTotalBytes - this.bytes;
  }

  /** Counts `count` more entries (members, directories and links alike). */
  addEntries(count: number, fileName: string): void {
    this.entries += count;
    if (this.entries > this.limits.maxEntries) {
      throw new InvalidInputError(
        'archive_too_many_entries',
        `"${fileName}" holds more than ${this.limits.maxEntries} entries in all, counting nested archives. Split it into smaller archives.`,
        { file_name: fileName, root_file_name: this.rootFileName, max_entries: this.limits.maxEntries },
      );
    }
  }

  /** Counts `count` more uncompressed bytes. */
  addBytes(count: number, fileName: string): void {
    this.bytes += count;
    if (this.bytes > this.limits.maxTotalBytes) {
      throw this.tooLargeError(fileName);
    }
  }

  tooLargeError(fileName: string): InvalidInputError {
    return new InvalidInputError(
      'archive_too_large',
      `"${fileName}" unpacks to more than ${this.limits.maxTotalBytes} bytes in all, counting nested archives. Split it into smaller archives.`,
      { file_name: fileName, root_file_name: this.rootFileName, max_total_bytes: this.limits.maxTotalBytes },
    );
  }

  ratioExceededError(fileName: string, entryName: string): InvalidInputError {
    const maxRatio = this.limits.maxCompressionRatio;
    return new InvalidInputError(
      'archive_ratio_exceeded',
      `Entry "${entryName}" of "${fileName}" expands more than ${maxRatio} times its compressed size, as a compression bomb does. Remove the entry or compress it less.`,
      { file_name: fileName, entry_name: entryName, max_compression_ratio: maxRatio },
    );
  }

  /** Throws `archive_too_deep` when a container at `depth` may not be opened. */
  assertDepth(depth: number, fileName: string): void {
    if (depth >= this.limits.maxDepth) {
      throw new InvalidInputError(
        'archive_too_deep',
        `"${fileName}" is nested ${depth} containers deep inside "${this.rootFileName}", and at most ${this.limits.maxDepth} levels are opened. Unpack the inner archive and upload it on its own.`,
        { file_name: fileName, root_file_name: this.rootFileName, depth, max_depth: this.limits.maxDepth },
      );
    }
  }
}
