import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, ILike, Repository } from 'typeorm';
import { InvalidInputError, NotFoundError } from 'src/common/app-error';
import { hasUnsafeText } from 'src/common/postgres-json';
import { Owner } from 'src/common/owner';
import { Page, rejectNullFields } from 'src/common/validation';
import { CollectionTransformJob } from 'src/collections/collection-transform.job';
import { CollectionErrorCode } from 'src/collections/collections.errors';
import { CollectionsService } from 'src/collections/collections.service';
import { CollectionTransformEntity } from 'src/collection-transforms/collection-transform.entity';
import {
  CreateCollectionTransformDto,
  UpdateCollectionTransformDto,
} from 'src/collection-transforms/dto/create-collection-transform.dto';
import { CollectionTransformStats } from 'src/collection-transforms/dto/collection-transform.response';
import { TransformProcessedFileEntity } from 'src/collection-transforms/transform-processed-file.entity';
import { DatasetsService } from 'src/datasets/datasets.service';
import { EmbeddedDatasetsService } from 'src/embedded-datasets/embedded-datasets.service';
import { EmbeddersService, escapeLike } from 'src/embedders/embedders.service';
import { retryOnConflict } from 'src/platform/database/retry-on-conflict';
import { JetStreamService } from 'src/platform/messaging/jetstream.service';
import { JobSubject } from 'src/platform/messaging/streams';
import { ChunkingConfig, DEFAULT_CHUNKING_CONFIG, validateChunkingConfig } from 'src/workers/collections/chunking/chunk-text';

export interface FileToDispatch {
  id: string;
  revision: string;
}

@Injectable()
export class CollectionTransformsService {
  private readonly logger = new Logger(CollectionTransformsService.name);

  constructor(
    @InjectRepository(CollectionTransformEntity) private readonly transforms: Repository<CollectionTransformEntity>,
    @InjectRepository(TransformProcessedFileEntity) private readonly ledger: Repository<TransformProcessedFileEntity>,
    private readonly dataSource: DataSource,
    private readonly collections: CollectionsService,
    private readonly datasets: DatasetsService,
    private readonly embeddedDatasets: EmbeddedDatasetsService,
    private readonly embedders: EmbeddersService,
    private readonly jetStream: JetStreamService,
  ) {}

  /** The chunking settings of a transform, with defaults filled in and bounds checked. */
  static chunkingConfigOf(jobConfig: Record<string, unknown>): ChunkingConfig {
    // Request DTOs carry unset fields as undefined, also inside `options`; those must not hide
    // the defaults or count as settings.
    const provided = withoutUndefined(jobConfig.chunking ?? {}) as Record<string, unknown>;
    const defaults: Record<string, unknown> = { ...DEFAULT_CHUNKING_CONFIG };
    // A small chunk_size given without an overlap gets a tenth of it, not the default 100.
    if (typeof provided.chunk_size === 'number' && provided.chunk_overlap === undefined) {
      defaults.chunk_overlap = Math.min(DEFAULT_CHUNKING_CONFIG.chunk_overlap, Math.floor(provided.chunk_size / 10));
    }
    return validateChunkingConfig({ ...defaults, ...provided });
  }

  async create(owner: Owner, dto: CreateCollectionTransformDto): Promise<CollectionTransformEntity> {
    await this.collections.get(owner, dto.collection_id);
    await this.datasets.get(owner, dto.dataset_id);
    const jobConfig = normaliseJobConfig(dto.job_config ?? {});
    await this.checkSemanticEmbedder(owner, jobConfig);
    const transform = await this.transforms.save(
      this.transforms.create({
        ownerId: owner.id,
        title: dto.title,
        collectionId: dto.collection_id,
        datasetId: dto.dataset_id,
        isEnabled: dto.is_enabled ?? true,
        jobConfig,
      }),
    );
    if (transform.isEnabled) await this.dispatchUnprocessed(transform);
    return transform;
  }

  async list(owner: Owner, limit: number, offset: number, search?: string): Promise<Page<CollectionTransformEntity>> {
    const where = search ? { ownerId: owner.id, title: ILike(`%${escapeLike(search)}%`) } : { ownerId: owner.id };
    const [items, total] = await this.transforms.findAndCount({ where, order: { createdAt: 'DESC' }, take: limit, skip: offset });
    return { items, total_count: total, limit, offset };
  }

  async get(owner: Owner, id: string): Promise<CollectionTransformEntity> {
    const transform = await this.transforms.findOneBy({ id, ownerId: owner.id });
    if (!transform) throw new NotFoundError(CollectionErrorCode.TransformNotFound, `collection transform ${id} not found`);
    return transform;
  }

  async findById(id: string): Promise<CollectionTransformEntity | null> {
    return this.transforms.findOneBy({ id });
  }

  async update(owner: Owner, id: string, dto: UpdateCollectionTransformDto): Promise<CollectionTransformEntity> {
    rejectNullFields(dto, ['title', 'is_enabled', 'job_config']);
    const transform = await this.get(owner, id);
    const wasEnabled = transform.isEnabled;
    if (dto.title !== undefined) transform.title = dto.title;
    if (dto.is_enabled !== undefined) transform.isEnabled = dto.is_enabled;
    if (dto.job_config !== undefined) {
      transform.jobConfig = normaliseJobConfig(dto.job_config);
      await this.checkSemanticEmbedder(owner, transform.jobConfig);
    }
    await this.transforms.save(transform);
    if (transform.isEnabled && !wasEnabled) await this.dispatchUnprocessed(transform);
    return transform;
  }

  /** Deletes the transform, the items it made and their vectors. */
  async delete(owner: Owner, id: string): Promise<void> {
    const transform = await this.get(owner, id);
    await retryOnConflict(() => this.transforms.delete({ id, ownerId: owner.id }));
    await this.recomputeFileStages(transform.collectionId);
    await this.embeddedDatasets.deletePoints([transform.datasetId], {
      must: [{ key: 'collection_transform_id', match: { value: id } }],
    });
  }

  async trigger(owner: Owner, id: string): Promise<number> {
    return this.dispatchUnprocessed(await this.get(owner, id));
  }

  /**
   * Processes again every file whose latest outcome is a failure. Returns how many jobs were
   * published; their message ids are new, so NATS does not drop them as repeats.
   */
  async retryFailed(owner: Owner, id: string): Promise<number> {
    const transform = await this.get(owner, id);
    const failed = await this.dataSource.query(
      `SELECT f.id, f.revision FROM transform_processed_files p
         JOIN collection_files f ON f.id = p.file_id AND f.revision = p.file_revision
        WHERE p.collection_transform_id = $1 AND p.status = 'failed'`,
      [id],
    );
    const retryId = randomUUID();
    let published = 0;
    for (const file of failed as FileToDispatch[]) {
      await this.dataSource.query(
        `UPDATE collection_files SET stage = 'stored', stage_reason = NULL, stage_changed_at = now() WHERE id = $1`,
        [file.id],
      );
      if (await this.publishJob(transform, file, `retry-${retryId}`)) published += 1;
    }
    return published;
  }

  async listForCollection(owner: Owner, collectionId: string): Promise<CollectionTransformEntity[]> {
    return this.transforms.find({ where: { ownerId: owner.id, collectionId }, order: { createdAt: 'ASC' } });
  }

  async datasetIdsOfCollection(collectionId: string): Promise<string[]> {
    const rows = await this.transforms.find({ select: { datasetId: true }, where: { collectionId } });
    return [...new Set(rows.map((row) => row.datasetId))];
  }

  /** Publishes one job per enabled transform of the collection for each given file revision. */
  async dispatchFiles(ownerId: string, collectionId: string, files: FileToDispatch[]): Promise<number> {
    if (files.length === 0) return 0;
    const transforms = await this.transforms.findBy({ ownerId, collectionId, isEnabled: true });
    let published = 0;
    for (const transform of transforms) {
      for (const file of files) {
        if (await this.publishJob(transform, file)) published += 1;
      }
    }
    return published;
  }

  /**
   * Publishes jobs for files of the transform's collection whose current revision has no
   * outcome yet. Jobs are de-duplicated by (transform, file, revision), so calling this
   * again while they wait is harmless.
   */
  async dispatchUnprocessed(transform: CollectionTransformEntity, olderThanSecs = 0): Promise<number> {
    const rows: Array<{ id: string; revision: string }> = await this.dataSource.query(
      `SELECT f.id, f.revision FROM collection_files f
         LEFT JOIN transform_processed_files p ON p.collection_transform_id = $1 AND p.file_id = f.id
        WHERE f.collection_id = $2
          AND (p.id IS NULL OR p.file_revision <> f.revision)
          AND f.updated_at < now() - make_interval(secs => $3)
        ORDER BY f.created_at`,
      [transform.id, transform.collectionId, olderThanSecs],
    );
    let published = 0;
    for (const row of rows) {
      if (await this.publishJob(transform, row)) published += 1;
    }
    return published;
  }

  async dispatchAllUnprocessed(olderThanSecs: number): Promise<number> {
    let published = 0;
    for (const transform of await this.transforms.findBy({ isEnabled: true })) {
      published += await this.dispatchUnprocessed(transform, olderThanSecs);
    }
    return published;
  }

  async stats(owner: Owner, id: string): Promise<CollectionTransformStats> {
    const transform = await this.get(owner, id);
    const [row] = await this.dataSource.query(
      `SELECT count(f.id)::int AS total_files,
              count(p.id) FILTER (WHERE p.status = 'completed' AND p.file_revision = f.revision)::int AS processed,
              count(p.id) FILTER (WHERE p.status = 'failed' AND p.file_revision = f.revision)::int AS failed,
              count(p.id) FILTER (WHERE p.status = 'processing' AND p.file_revision = f.revision)::int AS processing,
              coalesce(sum(p.chunk_count) FILTER (WHERE p.status = 'completed'), 0)::int AS chunks,
              max(p.processed_at) AS last_processed_at
         FROM collection_files f
         LEFT JOIN transform_processed_files p ON p.collection_transform_id = $1 AND p.file_id = f.id
        WHERE f.collection_id = $2`,
      [id, transform.collectionId],
    );
    return {
      collection_transform_id: id,
      total_files: row.total_files,
      files_processed: row.processed,
      files_failed: row.failed,
      files_processing: row.processing,
      files_pending: row.total_files - row.processed - row.failed - row.processing,
      chunks_created: row.chunks,
      last_processed_at: row.last_processed_at ? new Date(row.last_processed_at).toISOString() : null,
    };
  }

  async processedFiles(owner: Owner, id: string, limit: number, offset: number): Promise<Page<TransformProcessedFileEntity>> {
    await this.get(owner, id);
    const [items, total] = await this.ledger.findAndCount({
      where: { collectionTransformId: id },
      order: { updatedAt: 'DESC' },
      take: limit,
      skip: offset,
    });
    return { items, total_count: total, limit, offset };
  }

  /**
   * Derives each file's stored stage from the outcomes of the transforms that remain, so a
   * file is not left `extracting` by a transform that was deleted mid-job.
   */
  private async recomputeFileStages(collectionId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE collection_files f
          SET stage = s.stage, stage_reason = s.reason, stage_changed_at = now()
         FROM (
           SELECT f2.id,
                  CASE WHEN bool_or(p.status = 'failed') THEN 'failed'
                       WHEN bool_or(p.status = 'processing') THEN 'extracting'
                       WHEN bool_or(p.status = 'completed') THEN 'chunked'
                       ELSE 'stored' END AS stage,
                  max(p.error_code || ': ' || p.error_message) FILTER (WHERE p.status = 'failed') AS reason
             FROM collection_files f2
             LEFT JOIN transform_processed_files p ON p.file_id = f2.id AND p.file_revision = f2.revision
            WHERE f2.collection_id = $1
            GROUP BY f2.id
         ) s
        WHERE f.id = s.id AND (f.stage IS DISTINCT FROM s.stage)`,
      [collectionId],
    );
  }

  private async checkSemanticEmbedder(owner: Owner, jobConfig: Record<string, unknown>): Promise<void> {
    const chunking = jobConfig.chunking as { strategy?: string; options?: { embedder_id?: string } } | undefined;
    if (chunking?.strategy === 'semantic') await this.embedders.get(owner, String(chunking.options?.embedder_id));
  }

  private async publishJob(transform: CollectionTransformEntity, file: FileToDispatch, attempt = 'first'): Promise<boolean> {
    const job: CollectionTransformJob = {
      job_id: randomUUID(),
      owner_id: transform.ownerId,
      collection_transform_id: transform.id,
      file_id: file.id,
      file_revision: file.revision,
    };
    try {
      const messageId = `ct-${transform.id}-${file.id}-${file.revision}${attempt === 'first' ? '' : `-${attempt}`}`;
      await this.jetStream.publishJob(JobSubject.CollectionTransform, job, messageId);
      return true;
    } catch (error) {
      // The file stays without an outcome, so the periodic reconciliation publishes it again.
      this.logger.error({ err: error, collection_transform_id: transform.id, file_id: file.id }, 'job not published');
      return false;
    }
  }
}

function normaliseJobConfig(jobConfig: { chunking?: unknown; extraction?: unknown }): Record<string, unknown> {
  const { chunking } = jobConfig;
  const extraction = withoutUndefined(jobConfig.extraction ?? {}) as { json_mode?: string };
  if (chunking !== undefined && (chunking === null || typeof chunking !== 'object' || Array.isArray(chunking))) {
    throw new InvalidInputError('invalid_chunking_config', 'job_config.chunking must be an object; leave it out for the defaults');
  }
  const normalised = CollectionTransformsService.chunkingConfigOf(jobConfig as Record<string, unknown>);
  // jsonb cannot store NUL, and a separator made of it would never match extracted text anyway.
  if (JSON.stringify(normalised).includes('\\u0000') || (normalised.separators ?? []).some(hasUnsafeText)) {
    throw new InvalidInputError('invalid_chunking_config', 'chunking settings must not contain the NUL character or unpaired surrogates');
  }
  return { extraction: { json_mode: extraction.json_mode ?? 'document' }, chunking: normalised };
}

function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, entry]) => entry !== undefined)
      .map(([key, entry]) => [key, withoutUndefined(entry)]),
  );
}
