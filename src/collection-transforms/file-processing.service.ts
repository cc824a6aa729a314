import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AppError } from 'src/common/app-error';
import { toPostgresJson, toPostgresText } from 'src/common/postgres-json';
import { PipelineConfig, StorageConfig } from 'src/config/app-config';
import { CollectionFileEntity, FileStage } from 'src/collections/collection-file.entity';
import { CollectionTransformJob } from 'src/collections/collection-transform.job';
import { CollectionTransformEntity } from 'src/collection-transforms/collection-transform.entity';
import { CollectionTransformsService } from 'src/collection-transforms/collection-transforms.service';
import {
  EntryOutcome,
  ProcessedFileStatus,
  TransformProcessedFileEntity,
} from 'src/collection-transforms/transform-processed-file.entity';
import { DatasetsService, NewItem } from 'src/datasets/datasets.service';
import { EmbedderEntity } from 'src/embedders/embedder.entity';
import { EmbeddersService } from 'src/embedders/embedders.service';
import { EmbeddingScheduler } from 'src/dataset-transforms/embedding-scheduler.service';
import { JetStreamService } from 'src/platform/messaging/jetstream.service';
import { collectionTransformMetrics } from 'src/platform/observability/metrics';
import { BlobStore } from 'src/platform/storage/blob-store';
import { ChunkingConfig, chunkDocument } from 'src/workers/collections/chunking/chunk-text';
import { JSON_TYPE, NDJSON } from 'src/workers/collections/extraction/content-type';
import { ExtractedDocument, extractDocument } from 'src/workers/collections/extraction/extract-document';

export type FileOutcome = 'completed' | 'failed' | 'skipped';

/**
 * Turns one revision of one file into a dataset item with chunks. A failure caused by the file
 * itself is recorded as the file's outcome and the job ends normally. Other errors propagate,
 * so the job is retried.
 */
@Injectable()
export class FileProcessingService {
  private readonly logger = new Logger(FileProcessingService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly blobs: BlobStore,
    private readonly datasets: DatasetsService,
    private readonly scheduler: EmbeddingScheduler,
    private readonly embedders: EmbeddersService,
    private readonly jetStream: JetStreamService,
    private readonly storageConfig: StorageConfig,
    private readonly pipelineConfig: PipelineConfig,
  ) {}

  async process(job: CollectionTransformJob, signal?: AbortSignal): Promise<FileOutcome> {
    const log = { job_id: job.job_id, collection_transform_id: job.collection_transform_id, file_id: job.file_id };
    const transform = await this.dataSource.getRepository(CollectionTransformEntity).findOneBy({ id: job.collection_transform_id });
    if (!transform || !transform.isEnabled) {
      this.logger.log(log, 'transform deleted or disabled; job skipped');
      return 'skipped';
    }
    const file = await this.dataSource
      .getRepository(CollectionFileEntity)
      .findOneBy({ id: job.file_id, collectionId: transform.collectionId });
    if (!file || file.revision !== job.file_revision) {
      this.logger.log(log, 'file deleted or replaced since the job was published; job skipped');
      return 'skipped';
    }
    const ledger = this.dataSource.getRepository(TransformProcessedFileEntity);
    const previous = await ledger.findOneBy({ collectionTransformId: transform.id, fileId: file.id });
    if (previous?.fileRevision === file.revision && previous.status === ProcessedFileStatus.Completed) {
      this.logger.log(log, 'file revision already processed; job skipped');
      return 'skipped';
    }

    const started = Date.now();
    await this.recordStart(transform, file);

    let items: NewItem[];
    let entryOutcomes: EntryOutcome[];
    try {
      const data = await this.readFile(file);
      if (!data) {
        this.logger.log(log, 'file replaced while the job started; job skipped');
        return 'skipped';
      }
      signal?.throwIfAborted();
      const document = await extractDocument(data, file.name, file.contentType, {
        timeoutMs: this.pipelineConfig.extractionTimeoutSecs * 1000,
        containerLimits: this.pipelineConfig.containerLimits,
      });
      signal?.throwIfAborted();
      ({ items, entryOutcomes } = await this.buildItems(transform, file, document));
      signal?.throwIfAborted();
    } catch (error) {
      if (error instanceof AppError && error.kind === 'invalid') {
        await this.recordFailure(transform, file, error.code, error.message, Date.now() - started);
        return 'failed';
      }
      throw error;
    }

    const chunkCount = items.reduce((sum, item) => sum + item.chunks.length, 0);
    const committed = await this.dataSource.transaction(async (manager) => {
      // Holding the file row keeps a concurrent upload from switching revisions mid-write.
      const current = await manager
        .getRepository(CollectionFileEntity)
        .createQueryBuilder('file')
        .setLock('pessimistic_write')
        .where('file.id = :id', { id: file.id })
        .getOne();
      if (!current || current.revision !== file.revision) return null;

      const replaced = await this.datasets.replaceFileItems(manager, {
        ownerId: transform.ownerId,
        datasetId: transform.datasetId,
        collectionTransformId: transform.id,
        fileId: file.id,
        fileRevision: file.revision,
        items,
      });
      await this.upsertLedger(manager, transform, file, {
        status: ProcessedFileStatus.Completed,
        errorCode: null,
        errorMessage: null,
        itemCount: items.length,
        chunkCount,
        processingDurationMs: Date.now() - started,
        processedAt: new Date(),
        entryOutcomes,
      });
      await this.setStage(manager, file.id, FileStage.Chunked, null);
      return replaced;
    });
    if (!committed) {
      this.logger.log(log, 'file replaced during processing; result discarded');
      return 'skipped';
    }

    collectionTransformMetrics.jobs().inc({ status: 'success' });
    collectionTransformMetrics.itemsCreated().inc(chunkCount);
    collectionTransformMetrics.duration().observe((Date.now() - started) / 1000);
    this.logger.log({ ...log, items: items.length, chunks: chunkCount, duration_ms: Date.now() - started }, 'file chunked');

    await this.datasets.deleteVectorsOfItems(transform.datasetId, committed.removedItemIds);
    await this.jetStream.publishStatus(
      `transforms.collection.status.${transform.ownerId}.${transform.collectionId}.${transform.id}`,
      { ...log, status: 'completed', chunk_count: chunkCount },
    );
    try {
      await this.scheduler.scanDataset(transform.datasetId);
    } catch (error) {
      // The periodic reconciliation schedules what this scan missed.
      this.logger.warn({ ...log, err: error }, 'embedding scan after chunking failed');
    }
    return 'completed';
  }

  /**
   * Chunks the file's own text and each document inside it (archive entries, attachments) as
   * separate items. A failed entry is reported in the outcomes and does not fail the file;
   * a file with nothing to index does.
   */
  private async buildItems(
    transform: CollectionTransformEntity,
    file: CollectionFileEntity,
    document: ExtractedDocument,
  ): Promise<{ items: NewItem[]; entryOutcomes: EntryOutcome[] }> {
    const chunking = CollectionTransformsService.chunkingConfigOf(transform.jobConfig);
    const embed = await this.embedFunctionFor(transform, chunking);
    const items: NewItem[] = [];
    const entryOutcomes: EntryOutcome[] = [];

    let chunkCount = 0;
    const countChunks = (item: NewItem): NewItem => {
      chunkCount += item.chunks.length;
      if (chunkCount > this.pipelineConfig.maxChunksPerFile) {
        throw new AppError(
          'invalid',
          'too_many_chunks',
          `${file.name} makes more than MAX_CHUNKS_PER_FILE (${this.pipelineConfig.maxChunksPerFile}) chunks; use a larger chunk_size or split the file`,
        );
      }
      return item;
    };

    const jsonMode = (transform.jobConfig.extraction as { json_mode?: string } | undefined)?.json_mode;
    const records = jsonMode === 'records' && (document.contentType === JSON_TYPE || document.contentType === NDJSON) ? splitRecords(document) : [];
    if (records.length > 0) {
      for (const record of records) {
        items.push(countChunks(await this.buildItem(file, record.path, record.document, chunking, embed)));
      }
    } else if (document.text.trim() !== '') {
      items.push(countChunks(await this.buildItem(file, '', document, chunking, embed)));
    }
    for (const child of document.children ?? []) {
      if (!child.document) {
        entryOutcomes.push({
          path: cleanEntryPath(child.path),
          status: 'failed',
          error_code: child.error?.code ?? 'entry_failed',
          error_message: child.error?.message ?? 'the entry could not be extracted',
        });
        continue;
      }
      const item = countChunks(await this.buildItem(file, child.path, child.document, chunking, embed));
      entryOutcomes.push({ path: item.entryPath, status: 'completed', chunk_count: item.chunks.length });
      items.push(item);
    }

    const nonEmpty = items.filter((item) => item.chunks.length > 0);
    if (nonEmpty.length === 0) {
      const failures = entryOutcomes.filter((outcome) => outcome.status === 'failed');
      if (failures.length > 0) {
        const sample = failures
          .slice(0, 3)
          .map((outcome) => `${outcome.path}: ${outcome.error_code}`)
          .join('; ');
        throw new AppError('invalid', 'no_extractable_entries', `none of the ${failures.length} entries of ${file.name} could be extracted (${sample})`);
      }
      throw new AppError('invalid', 'no_chunks', `no text chunks could be made from ${file.name}`);
    }
    return { items: nonEmpty, entryOutcomes };
  }

  private async buildItem(
    file: CollectionFileEntity,
    entryPath: string,
    document: ExtractedDocument,
    chunking: ChunkingConfig,
    embed: ((texts: string[]) => Promise<number[][]>) | undefined,
  ): Promise<NewItem> {
    entryPath = cleanEntryPath(entryPath);
    const chunks = await chunkDocument(document.text, chunking, document.segments, { embed });
    const source = entryPath ? { source_file: file.name, entry_path: entryPath } : { source_file: file.name };
    return {
      entryPath,
      title: entryPath ? `${file.name}/${entryPath}` : file.name,
      metadata: {
        ...document.metadata,
        ...source,
        document_title: document.title ?? null,
        content_type: document.contentType,
        file_id: file.id,
        collection_id: file.collectionId,
        char_count: document.text.length,
      },
      // A repeated table header or code fence (`prefix`) is stored and embedded with the chunk, so
      // the chunk reads on its own. The offsets still locate the original slice.
      chunks: chunks.map((chunk) => ({
        text: (chunk.prefix ?? '') + chunk.text,
        start: chunk.start,
        end: chunk.end,
        metadata: chunk.prefix ? { ...chunk.metadata, ...source, prefix_length: chunk.prefix.length } : { ...chunk.metadata, ...source },
      })),
    };
  }

  /** Semantic chunking embeds sentences with the embedder its configuration names. */
  private async embedFunctionFor(
    transform: CollectionTransformEntity,
    chunking: ChunkingConfig,
  ): Promise<((texts: string[]) => Promise<number[][]>) | undefined> {
    if (chunking.strategy !== 'semantic') return undefined;
    const embedderId = String((chunking.options as { embedder_id?: unknown } | undefined)?.embedder_id ?? '');
    const row = await this.dataSource.getRepository(EmbedderEntity).findOneBy({ id: embedderId, ownerId: transform.ownerId });
    if (!row) {
      throw new AppError('invalid', 'semantic_embedder_not_found', `embedder ${embedderId} of the semantic chunking settings no longer exists`);
    }
    const embedder = this.embedders.instantiate(row);
    return (texts) => embedder.embed(texts, 'document');
  }

  /** Records a failure that will not be retried (the last delivery, or a bad file). */
  async recordFailure(
    transform: Pick<CollectionTransformEntity, 'id' | 'ownerId' | 'collectionId'>,
    file: Pick<CollectionFileEntity, 'id' | 'revision' | 'name'>,
    code: string,
    message: string,
    durationMs: number | null,
  ): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.upsertLedger(manager, transform, file, {
        status: ProcessedFileStatus.Failed,
        errorCode: code,
        errorMessage: message.slice(0, 4000),
        itemCount: 0,
        chunkCount: 0,
        processingDurationMs: durationMs,
        processedAt: new Date(),
        entryOutcomes: [],
      });
      await this.setStage(manager, file.id, FileStage.Failed, toPostgresText(`${code}: ${message}`.slice(0, 4000)));
    });
    collectionTransformMetrics.jobs().inc({ status: 'failed' });
    collectionTransformMetrics.failures().inc({ error_type: code });
    this.logger.warn({ collection_transform_id: transform.id, file_id: file.id, code, reason: message }, 'file failed');
    await this.jetStream.publishStatus(
      `transforms.collection.status.${transform.ownerId}.${transform.collectionId}.${transform.id}`,
      { collection_transform_id: transform.id, file_id: file.id, status: 'failed', error: message, code },
    );
  }

  /** Records the final failure of a job whose last delivery ended in an unexpected error. */
  async recordJobGivenUp(job: CollectionTransformJob, error: unknown): Promise<void> {
    const transform = await this.dataSource.getRepository(CollectionTransformEntity).findOneBy({ id: job.collection_transform_id });
    const file = await this.dataSource.getRepository(CollectionFileEntity).findOneBy({ id: job.file_id });
    if (!transform || !file || file.revision !== job.file_revision) return;
    const message = error instanceof Error ? error.message : String(error);
    await this.recordFailure(transform, file, 'processing_failed', `processing failed after every retry: ${message}`, null);
  }

  /**
   * Reads the file's bytes. Returns null when the blob is gone because a newer upload replaced
   * the file in the meantime. A blob missing for any other reason is a failure of the file.
   */
  private async readFile(file: CollectionFileEntity): Promise<Buffer | null> {
    try {
      return await this.blobs.getBuffer(file.blobKey, this.storageConfig.maxFileBytes);
    } catch (error) {
      if (!(error instanceof AppError) || error.kind !== 'not_found') throw error;
      const current = await this.dataSource.getRepository(CollectionFileEntity).findOneBy({ id: file.id });
      if (!current || current.revision !== file.revision) return null;
      throw new AppError('invalid', 'file_content_missing', `the stored content of ${file.name} is missing; upload the file again`);
    }
  }

  private async recordStart(transform: CollectionTransformEntity, file: CollectionFileEntity): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO transform_processed_files (owner_id, collection_transform_id, file_id, file_revision, status, attempts)
         VALUES ($1, $2, $3, $4, 'processing', 1)
         ON CONFLICT (collection_transform_id, file_id) DO UPDATE
           SET file_revision = EXCLUDED.file_revision, status = 'processing', error_code = NULL, error_message = NULL,
               attempts = CASE WHEN transform_processed_files.file_revision = EXCLUDED.file_revision
                               THEN transform_processed_files.attempts + 1 ELSE 1 END,
               updated_at = now()`,
        [transform.ownerId, transform.id, file.id, file.revision],
      );
      await this.setStage(manager, file.id, FileStage.Extracting, null);
    });
  }

  private async upsertLedger(
    manager: EntityManager,
    transform: Pick<CollectionTransformEntity, 'id' | 'ownerId'>,
    file: Pick<CollectionFileEntity, 'id' | 'revision'>,
    outcome: Pick<
      TransformProcessedFileEntity,
      'status' | 'errorCode' | 'errorMessage' | 'itemCount' | 'chunkCount' | 'processingDurationMs' | 'processedAt' | 'entryOutcomes'
    >,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO transform_processed_files
         (owner_id, collection_transform_id, file_id, file_revision, status, error_code, error_message,
          item_count, chunk_count, processing_duration_ms, processed_at, entry_outcomes, attempts)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1)
       ON CONFLICT (collection_transform_id, file_id) DO UPDATE
         SET file_revision = EXCLUDED.file_revision, status = EXCLUDED.status, error_code = EXCLUDED.error_code,
             error_message = EXCLUDED.error_message, item_count = EXCLUDED.item_count,
             chunk_count = EXCLUDED.chunk_count, processing_duration_ms = EXCLUDED.processing_duration_ms,
             processed_at = EXCLUDED.processed_at, entry_outcomes = EXCLUDED.entry_outcomes, updated_at = now()`,
      [
        transform.ownerId,
        transform.id,
        file.id,
        file.revision,
        outcome.status,
        outcome.errorCode,
        outcome.errorMessage === null ? null : toPostgresText(outcome.errorMessage),
        outcome.itemCount,
        outcome.chunkCount,
        outcome.processingDurationMs,
        outcome.processedAt,
        JSON.stringify(toPostgresJson(outcome.entryOutcomes)),
      ],
    );
  }

  private async setStage(manager: EntityManager, fileId: string, stage: FileStage, reason: string | null): Promise<void> {
    await manager.query(
      'UPDATE collection_files SET stage = $2, stage_reason = $3, stage_changed_at = now() WHERE id = $1',
      [fileId, stage, reason],
    );
  }
}

const MAX_ENTRY_PATH_LENGTH = 1024;

/** Removes control and bidirectional-override characters (which can disguise a name) and caps the length. */
function cleanEntryPath(path: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  const cleaned = path.replace(/[\u0000-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '');
  return cleaned.length <= MAX_ENTRY_PATH_LENGTH ? cleaned : `${cleaned.slice(0, MAX_ENTRY_PATH_LENGTH - 1)}…`;
}

/** Splits a JSON or NDJSON document into one document per record (array element or line), named by its path or line. */
function splitRecords(document: ExtractedDocument): Array<{ path: string; document: ExtractedDocument }> {
  return document.segments
    .map((segment, index) => {
      const path = typeof segment.metadata.json_path === 'string'
        ? segment.metadata.json_path
        : typeof segment.metadata.line === 'number' ? `line:${segment.metadata.line}` : `record:${index}`;
      const text = document.text.slice(segment.start, segment.end);
      return {
        path,
        document: { ...document, text, segments: [{ start: 0, end: text.length, metadata: segment.metadata }], children: undefined },
      };
    })
    .filter((record) => record.document.text.trim() !== '');
}
