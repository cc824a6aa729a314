import { randomUUID } from 'node:crypto';
import { Readable, Transform, TransformCallback } from 'node:stream';
import { IncomingHttpHeaders } from 'node:http';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import busboy from 'busboy';
import { QueryFailedError, Repository } from 'typeorm';
import { AppError, InvalidInputError, NotFoundError } from 'src/common/app-error';
import { Owner } from 'src/common/owner';
import { Page } from 'src/common/validation';
import { StorageConfig } from 'src/config/app-config';
import { CollectionFileEntity, FileStage } from 'src/collections/collection-file.entity';
import { CollectionErrorCode } from 'src/collections/collections.errors';
import { CollectionsService } from 'src/collections/collections.service';
import { EffectiveStage, FailedUpload, UploadedFileResult, UploadResponse } from 'src/collections/dto/collection.response';
import { CollectionTransformsService } from 'src/collection-transforms/collection-transforms.service';
import { DatasetsService } from 'src/datasets/datasets.service';
import { EmbeddedDatasetsService } from 'src/embedded-datasets/embedded-datasets.service';
import { retryOnConflict } from 'src/platform/database/retry-on-conflict';
import { BlobStore, StoredBlob } from 'src/platform/storage/blob-store';
import { detectContentType, isSupportedContentType } from 'src/workers/collections/extraction/content-type';

const SNIFF_BYTES = 8192;
const MAX_FILES_PER_UPLOAD = 1000;

export interface UploadRequest {
  headers: IncomingHttpHeaders;
  body: Readable;
}

/** Files of a collection: streamed uploads, listing with pipeline stage, download and deletion. */
@Injectable()
export class CollectionFilesService {
  private readonly logger = new Logger(CollectionFilesService.name);

  constructor(
    @InjectRepository(CollectionFileEntity) private readonly files: Repository<CollectionFileEntity>,
    private readonly collections: CollectionsService,
    private readonly transforms: CollectionTransformsService,
    private readonly datasets: DatasetsService,
    private readonly embeddedDatasets: EmbeddedDatasetsService,
    private readonly blobs: BlobStore,
    private readonly config: StorageConfig,
  ) {}

  /**
   * Streams each part of a multipart upload (field `files`) into the blob store, then records
   * it. A file whose content is already in the collection changes nothing; a new content under
   * an existing name replaces that file. One bad file fails alone.
   */
  async upload(owner: Owner, collectionId: string, request: UploadRequest): Promise<UploadResponse> {
    await this.collections.get(owner, collectionId);
    const contentType = request.headers['content-type'] ?? '';
    if (!contentType.startsWith('multipart/form-data')) {
      throw new InvalidInputError(CollectionErrorCode.UploadInvalid, 'expected a multipart/form-data body with "files" parts');
    }

    const response: UploadResponse = { completed: [], failed: [] };
    const changed: CollectionFileEntity[] = [];
    let parseError: Error | undefined;
    await new Promise<void>((resolve, reject) => {
      let parser: busboy.Busboy;
      try {
        parser = busboy({
          headers: request.headers,
          defParamCharset: 'utf8',
          limits: { fileSize: this.config.maxFileBytes + 1, files: MAX_FILES_PER_UPLOAD, fields: 50 },
        });
      } catch (error) {
        reject(new InvalidInputError(CollectionErrorCode.UploadInvalid, `invalid multipart request: ${(error as Error).message}`));
        return;
      }
      // Parts are stored one after another, which keeps memory use flat whatever the upload size.
      let queue = Promise.resolve();
      let index = 0;
      parser.on('file', (field, stream, info) => {
        index += 1;
        // A body that ends inside a part makes busboy emit 'error' on the part's stream; without a
        // listener that would crash the process. The failure reaches storeOne through the pipe.
        stream.on('error', () => undefined);
        const name = sanitiseFileName(info.filename);
        if (field !== 'files') {
          stream.resume();
          response.failed.push({ name, code: CollectionErrorCode.UploadInvalid, error: `unexpected form field "${field}"; use "files"` });
          return;
        }
        stream.pause();
        queue = queue.then(() =>
          this.storeOne(owner, collectionId, name, stream).then(
            (result) => {
              response.completed.push(result.response);
              if (result.changed) changed.push(result.changed);
            },
            (error: unknown) => {
              stream.unpipe();
              stream.resume();
              response.failed.push(toFailedUpload(name, error));
              if (!(error instanceof AppError)) this.logger.error({ err: error, file: name }, 'upload of one file failed');
            },
          ),
        );
      });
      parser.on('filesLimit', () =>
        response.failed.push({ name: '*', code: CollectionErrorCode.UploadInvalid, error: `at most ${MAX_FILES_PER_UPLOAD} files per request` }),
      );
      // Files stored before a malformed part are kept and processed; the rest of the body is lost.
      parser.on('error', (error: Error) => {
        parseError = error;
        queue.then(resolve, reject);
      });
      parser.on('close', () => queue.then(resolve, reject));
      request.body.pipe(parser);
    });

    if (parseError) {
      if (response.completed.length === 0 && response.failed.length === 0) {
        throw new InvalidInputError(CollectionErrorCode.UploadInvalid, `invalid multipart body: ${parseError.message}`);
      }
      response.failed.push({ name: '*', code: CollectionErrorCode.UploadInvalid, error: `invalid multipart body: ${parseError.message}` });
    }

    if (changed.length > 0) {
      await this.collections.touch(collectionId);
      await this.transforms.dispatchFiles(owner.id, collectionId, changed);
    }
    return response;
  }

  private async storeOne(
    owner: Owner,
    collectionId: string,
    name: string,
    stream: Readable & { truncated?: boolean },
  ): Promise<{ response: UploadedFileResult; changed?: CollectionFileEntity }> {
    if (stream.errored) {
      throw new InvalidInputError(CollectionErrorCode.UploadInvalid, `${name}: the upload ended early (${stream.errored.message})`);
    }
    const sniffer = new HeadCapture(SNIFF_BYTES);
    stream.once('error', (error) =>
      sniffer.destroy(new InvalidInputError(CollectionErrorCode.UploadInvalid, `${name}: the upload ended early (${error.message})`)),
    );
    const blobKey = `collections/${collectionId}/blobs/${randomUUID()}`;
    let stored: StoredBlob;
    try {
      stored = await this.blobs.put(blobKey, stream.pipe(sniffer), { maxBytes: this.config.maxFileBytes });
    } catch (error) {
      if (error instanceof AppError && error.code === 'blob_too_large') {
        throw new InvalidInputError('file_too_large', `${name} is larger than the limit of ${this.config.maxFileBytes} bytes (MAX_FILE_SIZE_MB)`);
      }
      throw error;
    }
    if (stream.truncated) {
      await this.blobs.delete(blobKey);
      throw new InvalidInputError('file_too_large', `${name} is larger than the limit of ${this.config.maxFileBytes} bytes`);
    }
    if (stored.size === 0) {
      await this.blobs.delete(blobKey);
      throw new InvalidInputError('empty_file', `${name} is empty`);
    }

    const contentType = detectContentType(sniffer.head, name);
    if (!isSupportedContentType(contentType)) {
      await this.blobs.delete(blobKey);
      throw new InvalidInputError(CollectionErrorCode.UnsupportedContentType, `${name}: content type ${contentType} is not supported`);
    }

    const duplicate = await this.files.findOneBy({ collectionId, sha256: stored.sha256 });
    if (duplicate) {
      await this.blobs.delete(blobKey);
      return {
        response: { id: duplicate.id, name, status: 'unchanged', content_type: duplicate.contentType, size: duplicate.size, duplicate_of: duplicate.name },
      };
    }

    const existing = await this.files.findOneBy({ collectionId, name });
    const revision = randomUUID();
    try {
      if (existing) {
        const previousBlob = existing.blobKey;
        Object.assign(existing, {
          contentType,
          size: stored.size,
          sha256: stored.sha256,
          blobKey,
          revision,
          stage: FileStage.Stored,
          stageReason: null,
          stageChangedAt: new Date(),
        });
        const saved = await this.files.save(existing);
        await this.blobs.delete(previousBlob).catch((error: unknown) =>
          this.logger.warn({ err: error, blob_key: previousBlob }, 'previous blob not deleted'),
        );
        return { response: { id: saved.id, name, status: 'replaced', content_type: contentType, size: stored.size }, changed: saved };
      }
      const saved = await this.files.save(
        this.files.create({
          ownerId: owner.id,
          collectionId,
          name,
          contentType,
          size: stored.size,
          sha256: stored.sha256,
          blobKey,
          revision,
          stage: FileStage.Stored,
          stageReason: null,
          stageChangedAt: new Date(),
        }),
      );
      return { response: { id: saved.id, name, status: 'created', content_type: contentType, size: stored.size }, changed: saved };
    } catch (error) {
      await this.blobs.delete(blobKey);
      if (error instanceof QueryFailedError && /collection_files_name_unique/.test(error.message)) {
        throw new AppError('conflict', CollectionErrorCode.NameConflict, `${name} was uploaded concurrently; upload it again`);
      }
      throw error;
    }
  }

  async list(owner: Owner, collectionId: string, limit: number, offset: number): Promise<Page<{ file: CollectionFileEntity; stage: EffectiveStage }>> {
    await this.collections.get(owner, collectionId);
    const [files, total] = await this.files.findAndCount({
      where: { collectionId, ownerId: owner.id },
      order: { createdAt: 'ASC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    const progress = await this.datasets.fileEmbeddingProgress(files.map((file) => file.id));
    const items = files.map((file) => ({ file, stage: effectiveStage(file, progress.get(file.id)) }));
    return { items, total_count: total, limit, offset };
  }

  async listFailed(owner: Owner, collectionId: string, limit: number, offset: number): Promise<Page<CollectionFileEntity>> {
    await this.collections.get(owner, collectionId);
    const [items, total] = await this.files.findAndCount({
      where: { collectionId, ownerId: owner.id, stage: FileStage.Failed },
      order: { stageChangedAt: 'DESC' },
      take: limit,
      skip: offset,
    });
    return { items, total_count: total, limit, offset };
  }

  async get(owner: Owner, collectionId: string, fileId: string): Promise<CollectionFileEntity> {
    const file = await this.files.findOneBy({ id: fileId, collectionId, ownerId: owner.id });
    if (!file) throw new NotFoundError(CollectionErrorCode.FileNotFound, `file ${fileId} not found in collection ${collectionId}`);
    return file;
  }

  async download(owner: Owner, collectionId: string, fileId: string): Promise<{ file: CollectionFileEntity; body: Readable }> {
    const file = await this.get(owner, collectionId, fileId);
    return { file, body: await this.blobs.get(file.blobKey) };
  }

  /** Deletes the file, the items made from it, their chunks and their vectors. */
  async delete(owner: Owner, collectionId: string, fileId: string): Promise<void> {
    const file = await this.get(owner, collectionId, fileId);
    const datasetIds = await this.transforms.datasetIdsOfCollection(collectionId);
    await retryOnConflict(() => this.files.delete({ id: file.id }));
    await this.embeddedDatasets.deletePoints(datasetIds, { must: [{ key: 'file_id', match: { value: file.id } }] });
    await this.blobs.delete(file.blobKey);
    await this.collections.touch(collectionId);
  }

  /** Deletes the collection with its files, items, chunks, vectors and blobs. */
  async deleteCollection(owner: Owner, collectionId: string): Promise<void> {
    await this.collections.get(owner, collectionId);
    const datasetIds = await this.transforms.datasetIdsOfCollection(collectionId);
    // Items made from this collection's files go with the files (foreign keys cascade).
    await retryOnConflict(() => this.collections.deleteRow(owner, collectionId));
    await this.embeddedDatasets.deletePoints(datasetIds, { must: [{ key: 'collection_id', match: { value: collectionId } }] });
    await this.blobs.deletePrefix(`collections/${collectionId}/`);
  }
}

/** Returns the stored stage, refined by the embedding progress of the file's chunks once it is chunked. */
export function effectiveStage(
  file: CollectionFileEntity,
  progress?: {
    expected: number;
    batched: number;
    embedded: number;
    lastEmbeddedAt: Date | null;
    failed?: number;
    failure?: string | null;
  },
): EffectiveStage {
  const stored: EffectiveStage = { stage: file.stage, reason: file.stageReason, changedAt: file.stageChangedAt };
  if (file.stage !== FileStage.Chunked || !progress || progress.expected === 0) return stored;
  if (progress.embedded >= progress.expected) {
    return { stage: FileStage.Embedded, reason: null, changedAt: progress.lastEmbeddedAt ?? file.stageChangedAt };
  }
  // A batch that failed for good stops the file until its retry, so the file shows the failure.
  if (progress.failed && progress.failed > 0) {
    return { stage: FileStage.Failed, reason: `embedding_failed: ${progress.failure ?? 'a batch failed'}`, changedAt: file.stageChangedAt };
  }
  if (progress.batched > 0) return { stage: FileStage.Embedding, reason: null, changedAt: file.stageChangedAt };
  return stored;
}

const MAX_FILE_NAME_LENGTH = 255;

/**
 * Keeps the base name only, without control or bidirectional-override characters (which can
 * make `a\u202Etxt.exe` display as `aexe.txt`), at most 255 characters with the extension kept.
 * A name with nothing left gets a unique `unnamed-…` name, so it never replaces another file.
 */
export function sanitiseFileName(raw: string | undefined): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  const cleaned = base.replace(/[\u0000-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim();
  if (cleaned.length === 0 || /^\.+$/.test(cleaned)) return `unnamed-${randomUUID().slice(0, 8)}`;
  if (cleaned.length <= MAX_FILE_NAME_LENGTH) return cleaned;
  const dot = cleaned.lastIndexOf('.');
  const extension = dot > 0 && cleaned.length - dot <= 16 ? cleaned.slice(dot) : '';
  return cleaned.slice(0, MAX_FILE_NAME_LENGTH - extension.length) + extension;
}

function toFailedUpload(name: string, error: unknown): FailedUpload {
  if (error instanceof AppError) return { name, code: error.code, error: error.message };
  return { name, code: 'upload_failed', error: 'storing the file failed; try again' };
}

/** Passes bytes through while keeping the first `limit` of them for content sniffing. */
class HeadCapture extends Transform {
  private readonly parts: Buffer[] = [];
  private captured = 0;

  constructor(private readonly limit: number) {
    super();
  }

  get head(): Buffer {
    return Buffer.concat(this.parts);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.captured < this.limit) {
      const part = chunk.subarray(0, this.limit - this.captured);
      this.parts.push(Buffer.from(part));
      this.captured += part.length;
    }
    callback(null, chunk);
  }
}
