import * as zlib from 'node:zlib';

import { InvalidInputError } from 'src/common/app-error';
import { readBounded } from 'src/workers/collections/extraction/bounded-read';
import { ContainerContext, extractMembers } from 'src/workers/collections/extraction/container-members';
import { detectContentType } from 'src/workers/collections/extraction/content-type';
import { ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import { readTarMembers, startsWithTarHeader, TarStats } from 'src/workers/collections/extraction/tar-archive';
import { openZipArchive } from 'src/workers/collections/extraction/zip-archive';

const SNIFF_BYTES = 8192;

// gzip header flags (RFC 1952, section 2.3.1).
const GZIP_FLAG_EXTRA = 0x04;
const GZIP_FLAG_NAME = 0x08;
const GZIP_FIXED_HEADER_SIZE = 10;
const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * Extracts every file of a ZIP archive as a child. The archive has no text of its own.
 * Throws `archive_damaged`, `archive_empty` or one of the limit codes of `ContainerBudget`.
 */
export async function extractZip(data: Buffer, context: ContainerContext): Promise<ExtractorResult> {
  context.budget.assertDepth(context.depth, context.fileName);
  const listing = await openZipArchive(data, context.fileName, context.budget);
  try {
    if (listing.files.length === 0) {
      throw archiveEmptyError(context.fileName, 'ZIP');
    }
    const children = await extractMembers(listing.members(), context);
    const metadata: Record<string, unknown> = {
      archive_format: 'zip',
      entry_count: listing.entryCount,
      member_count: listing.files.length,
      skipped_entry_count: listing.skippedCount,
    };
    if (listing.legacyNameEncoding) {
      metadata.entry_name_encoding = listing.legacyNameEncoding;
    }
    return { parts: [], metadata, children };
  } finally {
    listing.close();
  }
}

/**
 * Extracts every file of a TAR archive as a child, like `extractZip`. A gzip-compressed TAR
 * sent as `application/x-tar` (some clients label `.tgz` files so) goes to `extractGzip`.
 */
export async function extractTar(data: Buffer, context: ContainerContext): Promise<ExtractorResult> {
  if (data[0] === GZIP_MAGIC[0] && data[1] === GZIP_MAGIC[1]) {
    return extractGzip(data, context);
  }
  context.budget.assertDepth(context.depth, context.fileName);
  return extractTarMembers(data, context, 'tar', true);
}

/**
 * Extracts a gzip file. A compressed TAR archive (`.tgz`, `.tar.gz`) yields its files as
 * children. Any other payload is the document itself: it is extracted with the type detected
 * from its bytes and its name without `.gz`, and the result carries that extractor's text.
 */
export async function extractGzip(data: Buffer, context: ContainerContext): Promise<ExtractorResult> {
  const { budget, fileName } = context;
  budget.assertDepth(context.depth, fileName);

  const innerFileName = gzipInnerFileName(fileName, data);
  let payload: Buffer;
  try {
    const gunzip = zlib.createGunzip();
    gunzip.end(data);
    payload = await readBounded(gunzip, { budget, fileName, entryName: innerFileName, compressedSize: data.length });
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw error;
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidInputError(
      'archive_damaged',
      `gzip file "${fileName}" could not be decompressed (${reason}). The file is damaged or truncated, so compress it again.`,
      { file_name: fileName, format: 'gzip', reason },
      { cause: error },
    );
  }

  if (payload.length === 0) {
    throw archiveEmptyError(fileName, 'gzip');
  }
  if (startsWithTarHeader(payload)) {
    return extractTarMembers(payload, context, 'tar+gzip', false);
  }

  const innerContentType = detectContentType(payload.subarray(0, SNIFF_BYTES), innerFileName);
  const inner = await context.extractAs(payload, innerContentType, innerFileName);
  return {
    ...inner,
    metadata: {
      ...inner.metadata,
      compression: 'gzip',
      uncompressed_file_name: innerFileName,
      uncompressed_content_type: innerContentType,
    },
  };
}

async function extractTarMembers(
  data: Buffer,
  context: ContainerContext,
  format: string,
  countBytes: boolean,
): Promise<ExtractorResult> {
  const stats: TarStats = { entryCount: 0, skippedCount: 0 };
  const children = await extractMembers(readTarMembers(data, context.fileName, context.budget, stats, countBytes), context);
  if (children.length === 0) {
    throw archiveEmptyError(context.fileName, 'TAR');
  }
  return {
    parts: [],
    metadata: {
      archive_format: format,
      entry_count: stats.entryCount,
      member_count: stats.entryCount - stats.skippedCount,
      skipped_entry_count: stats.skippedCount,
    },
    children,
  };
}

/**
 * Names the decompressed file: the upload name without `.gz` (`.tgz` becomes `.tar`), or
 * else the original name stored in the gzip header, or else the upload name plus `.out`.
 */
function gzipInnerFileName(fileName: string, data: Buffer): string {
  const baseName = fileName.split('/').pop() ?? fileName;
  const stripped = baseName.replace(/\.tgz$/i, '.tar').replace(/\.gz(ip)?$/i, '');
  if (stripped !== baseName && stripped !== '') {
    return stripped;
  }
  return storedGzipName(data) ?? `${baseName}.out`;
}

function storedGzipName(data: Buffer): string | undefined {
  const flags = data[3];
  if (data.length < GZIP_FIXED_HEADER_SIZE || (flags & GZIP_FLAG_NAME) === 0) {
    return undefined;
  }
  let start = GZIP_FIXED_HEADER_SIZE;
  if (flags & GZIP_FLAG_EXTRA) {
    start += 2 + data.readUInt16LE(GZIP_FIXED_HEADER_SIZE);
  }
  const end = data.indexOf(0, start);
  if (end <= start) {
    return undefined;
  }
  // RFC 1952 stores the name in ISO 8859-1.
  const name = data.subarray(start, end).toString('latin1').split(/[\\/]/).pop();
  return name || undefined;
}

function archiveEmptyError(fileName: string, format: string): InvalidInputError {
  return new InvalidInputError(
    'archive_empty',
    `${format} file "${fileName}" contains no files to extract (only directories, links, or nothing). Add the documents and upload it again.`,
    { file_name: fileName, format: format.toLowerCase() },
  );
}
