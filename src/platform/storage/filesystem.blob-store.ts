import { randomUUID } from 'node:crypto';
import { constants as fsConstants, Dirent } from 'node:fs';
import { access, mkdir, open, readdir, rename, rmdir, stat, unlink, FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, ConflictError, InvalidInputError, NotFoundError, UnavailableError } from 'src/common/app-error';
import { assertValidBlobKey, assertValidBlobPrefix, assertValidMaxBytes } from 'src/platform/storage/blob-key';
import { BlobStore, PutBlobOptions, StoredBlob } from 'src/platform/storage/blob-store';
import { BlobDigestTransform, blobTooLargeError, readBlobToBuffer, toReadable } from 'src/platform/storage/blob-streams';
import { measureStorageOperation, StorageMetrics, StorageOperation } from 'src/platform/storage/storage.metrics';

const TEMP_FILE_SUFFIX = '.partial';
// Names of temporary files: `.<name>.<uuid>.partial`.
// Limitation: a temporary file left by a crashed process is never removed, and it keeps its folder in place.
const TEMP_FILE_PATTERN = /^\..*\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.partial$/;

/**
 * Blob store that keeps each blob as a file under `rootDir`, at the path given by its key.
 * A put writes a temporary file in the target folder and renames it, so readers never
 * see a partly written blob.
 */
export class FilesystemBlobStore extends BlobStore {
  readonly kind = 'filesystem' as const;
  private readonly rootDir: string;

  constructor(
    rootDir: string,
    private readonly metrics?: StorageMetrics,
  ) {
    super();
    this.rootDir = resolve(rootDir);
  }

  put(key: string, body: Readable | Buffer, options: PutBlobOptions = {}): Promise<StoredBlob> {
    return this.measure('put', key, async () => {
      this.assertValidKey(key);
      assertValidMaxBytes(options.maxBytes);
      const { maxBytes } = options;
      if (Buffer.isBuffer(body) && maxBytes !== undefined && body.length > maxBytes) {
        throw blobTooLargeError(key, maxBytes, body.length);
      }

      const target = this.pathFor(key);
      const tempPath = join(dirname(target), `.${basename(target)}.${randomUUID()}${TEMP_FILE_SUFFIX}`);
      const source = toReadable(body);
      const digest = new BlobDigestTransform(key, maxBytes);

      let handle: FileHandle;
      try {
        handle = await this.createTempFile(key, tempPath);
      } catch (error) {
        source.destroy();
        throw error;
      }

      try {
        await pipeline(source, digest, syncedFileWriter(handle));
        await handle.close();
        await rename(tempPath, target);
      } catch (error) {
        await handle.close().catch(() => undefined);
        await unlink(tempPath).catch(() => undefined);
        if (digest.limitExceeded && maxBytes !== undefined) {
          throw blobTooLargeError(key, maxBytes);
        }
        if (errorCode(error) === 'EISDIR') {
          throw keyConflictError(key);
        }
        throw error;
      }
      return { key, ...digest.digest() };
    });
  }

  get(key: string): Promise<Readable> {
    return this.measure('get', key, async () => {
      this.assertValidKey(key);
      const handle = await this.openForReading(key);
      return handle.createReadStream();
    });
  }

  getBuffer(key: string, maxBytes?: number): Promise<Buffer> {
    return this.measure('get_buffer', key, async () => {
      this.assertValidKey(key);
      assertValidMaxBytes(maxBytes);
      const handle = await this.openForReading(key);
      const { size } = await handle.stat();
      if (maxBytes !== undefined && size > maxBytes) {
        await handle.close();
        throw blobTooLargeError(key, maxBytes, size);
      }
      return readBlobToBuffer(handle.createReadStream(), key, maxBytes);
    });
  }

  stat(key: string): Promise<{ size: number } | null> {
    return this.measure('stat', key, async () => {
      this.assertValidKey(key);
      try {
        const info = await stat(this.pathFor(key));
        return info.isFile() ? { size: info.size } : null;
      } catch (error) {
        if (isMissingPathError(error)) {
          return null;
        }
        throw error;
      }
    });
  }

  delete(key: string): Promise<void> {
    return this.measure('delete', key, async () => {
      this.assertValidKey(key);
      const path = this.pathFor(key);
      try {
        await unlink(path);
      } catch (error) {
        // EISDIR/EPERM: the key names a folder of other blobs, which is not a blob itself.
        if (isMissingPathError(error) || errorCode(error) === 'EISDIR' || errorCode(error) === 'EPERM') {
          return;
        }
        throw error;
      }
      await this.removeEmptyFolders(dirname(path));
    });
  }

  deletePrefix(prefix: string): Promise<number> {
    return this.measure('delete_prefix', prefix, async () => {
      assertValidBlobPrefix(prefix);
      const slash = prefix.lastIndexOf('/');
      const parentDir = slash === -1 ? this.rootDir : this.pathFor(prefix.slice(0, slash));
      const namePrefix = prefix.slice(slash + 1);

      let entries: Dirent[];
      try {
        entries = await readdir(parentDir, { withFileTypes: true });
      } catch (error) {
        if (isMissingPathError(error)) {
          return 0;
        }
        throw error;
      }

      let deleted = 0;
      for (const entry of entries) {
        if (!entry.name.startsWith(namePrefix)) {
          continue;
        }
        const entryPath = join(parentDir, entry.name);
        if (entry.isDirectory()) {
          deleted += await this.deleteFolderContents(entryPath);
        } else if (entry.isFile() && !TEMP_FILE_PATTERN.test(entry.name)) {
          deleted += await unlinkIfPresent(entryPath);
        }
      }
      await this.removeEmptyFolders(parentDir);
      return deleted;
    });
  }

  checkHealth(): Promise<void> {
    return this.measure('check_health', this.rootDir, async () => {
      try {
        await mkdir(this.rootDir, { recursive: true });
        await access(this.rootDir, fsConstants.R_OK | fsConstants.W_OK);
      } catch (error) {
        throw new UnavailableError(
          'blob_store_unavailable',
          `Blob store folder "${this.rootDir}" cannot be created or is not readable and writable: ${errorMessage(error)}`,
          { rootDir: this.rootDir },
          { cause: error },
        );
      }
    });
  }

  private assertValidKey(key: string): void {
    assertValidBlobKey(key);
    // A key that looks like an in-progress write would be skipped by deletePrefix.
    if (TEMP_FILE_PATTERN.test(basename(key))) {
      throw new InvalidInputError(
        'invalid_blob_key',
        `Invalid blob key ${JSON.stringify(key)}: names of the form ".<name>.<uuid>${TEMP_FILE_SUFFIX}" are reserved for writes in progress.`,
        { key },
      );
    }
  }

  private pathFor(key: string): string {
    const path = join(this.rootDir, ...key.split('/'));
    // Key validation already excludes ".." and absolute keys; this guards against a future gap.
    if (!path.startsWith(this.rootDir + sep)) {
      throw new InvalidInputError('invalid_blob_key', `Invalid blob key ${JSON.stringify(key)}: it resolves outside the store.`, {
        key,
      });
    }
    return path;
  }

  /**
   * Creates the temporary file and its folders. A concurrent delete may remove a
   * just-created empty folder, so the open is retried once after recreating it.
   */
  private async createTempFile(key: string, tempPath: string): Promise<FileHandle> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await mkdir(dirname(tempPath), { recursive: true });
        return await open(tempPath, 'wx');
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT' && attempt === 1) {
          continue;
        }
        if (code === 'ENOTDIR' || code === 'EEXIST') {
          throw keyConflictError(key);
        }
        throw error;
      }
    }
  }

  private async openForReading(key: string): Promise<FileHandle> {
    let handle: FileHandle;
    try {
      handle = await open(this.pathFor(key), 'r');
    } catch (error) {
      if (isMissingPathError(error)) {
        throw blobNotFoundError(key);
      }
      throw error;
    }
    const info = await handle.stat();
    if (!info.isFile()) {
      await handle.close();
      throw blobNotFoundError(key);
    }
    return handle;
  }

  private async deleteFolderContents(folder: string): Promise<number> {
    let deleted = 0;
    const entries = await readdir(folder, { withFileTypes: true }).catch((error: unknown) => {
      if (isMissingPathError(error)) {
        return [] as Dirent[];
      }
      throw error;
    });
    for (const entry of entries) {
      const entryPath = join(folder, entry.name);
      if (entry.isDirectory()) {
        deleted += await this.deleteFolderContents(entryPath);
      } else if (entry.isFile() && !TEMP_FILE_PATTERN.test(entry.name)) {
        deleted += await unlinkIfPresent(entryPath);
      }
    }
    await rmdir(folder).catch(() => undefined);
    return deleted;
  }

  /** Removes `folder` and its parents while they are empty, stopping at the root. */
  private async removeEmptyFolders(folder: string): Promise<void> {
    let current = folder;
    while (current.startsWith(this.rootDir + sep)) {
      try {
        await rmdir(current);
      } catch {
        return;
      }
      current = dirname(current);
    }
  }

  private measure<T>(operation: StorageOperation, target: string, action: () => Promise<T>): Promise<T> {
    return measureStorageOperation(this.metrics, operation, async () => {
      try {
        return await action();
      } catch (error) {
        throw this.toAppError(error, operation, target);
      }
    });
  }

  /** Turns a failed file system call on the store's own files into UnavailableError. */
  private toAppError(error: unknown, operation: StorageOperation, target: string): unknown {
    if (error instanceof AppError) {
      return error;
    }
    const path = (error as NodeJS.ErrnoException | undefined)?.path;
    if (typeof path === 'string' && path.startsWith(this.rootDir)) {
      return new UnavailableError(
        'blob_store_unavailable',
        `Filesystem blob store failed to ${operation.replace('_', ' ')} "${target}": ${errorMessage(error)}`,
        { operation, target, code: errorCode(error) },
        { cause: error },
      );
    }
    // Errors from the caller's body stream pass through unchanged.
    return error;
  }
}

function blobNotFoundError(key: string): NotFoundError {
  return new NotFoundError('blob_not_found', `Blob "${key}" was not found.`, { key });
}

// Limitation: a key cannot be both a blob and a folder of other blobs (`a` and `a/b`), which S3 allows.
function keyConflictError(key: string): ConflictError {
  return new ConflictError(
    'blob_key_conflict',
    `Blob key "${key}" collides with an existing blob or folder: on the filesystem store a key cannot be both a blob and a folder of other blobs.`,
    { key },
  );
}

/**
 * Writes chunks to `handle` and calls fsync when the stream ends, so a crash after the
 * rename cannot publish an incomplete file. It leaves closing the handle to the caller,
 * which `FileHandle.createWriteStream` with `autoClose: false` does not allow in Node 20:
 * such a stream keeps a reference that makes `close()` wait forever.
 */
function syncedFileWriter(handle: FileHandle): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writeFully(handle, chunk).then(() => callback(), callback);
    },
    final(callback) {
      handle.sync().then(() => callback(), callback);
    },
  });
}

async function writeFully(handle: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

async function unlinkIfPresent(path: string): Promise<number> {
  try {
    await unlink(path);
    return 1;
  } catch (error) {
    if (isMissingPathError(error)) {
      return 0;
    }
    throw error;
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function isMissingPathError(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
