import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, ILike, Repository } from 'typeorm';
import { NotFoundError } from 'src/common/app-error';
import { Owner } from 'src/common/owner';
import { Page, rejectNullFields } from 'src/common/validation';
import { retryOnConflict } from 'src/platform/database/retry-on-conflict';
import { DatasetsService } from 'src/datasets/datasets.service';
import { BatchStatus, DatasetTransformBatchEntity } from 'src/dataset-transforms/dataset-transform-batch.entity';
import { DatasetTransformEntity } from 'src/dataset-transforms/dataset-transform.entity';
import { DatasetTransformErrorCode } from 'src/dataset-transforms/dataset-transforms.errors';
import {
  CreateDatasetTransformDto,
  UpdateDatasetTransformDto,
} from 'src/dataset-transforms/dto/create-dataset-transform.dto';
import { DatasetTransformStats } from 'src/dataset-transforms/dto/dataset-transform.response';
import { EmbeddingScheduler } from 'src/dataset-transforms/embedding-scheduler.service';
import { EmbeddedDatasetEntity } from 'src/embedded-datasets/embedded-dataset.entity';
import { EmbeddedDatasetsService } from 'src/embedded-datasets/embedded-datasets.service';
import { EmbeddersService, escapeLike } from 'src/embedders/embedders.service';

@Injectable()
export class DatasetTransformsService {
  private readonly logger = new Logger(DatasetTransformsService.name);

  constructor(
    @InjectRepository(DatasetTransformEntity) private readonly transforms: Repository<DatasetTransformEntity>,
    private readonly dataSource: DataSource,
    private readonly datasets: DatasetsService,
    private readonly embedders: EmbeddersService,
    private readonly embeddedDatasets: EmbeddedDatasetsService,
    private readonly scheduler: EmbeddingScheduler,
  ) {}

  /** Creates the transform and one embedded dataset per embedder, then schedules embedding of what exists. */
  async create(owner: Owner, dto: CreateDatasetTransformDto): Promise<{ transform: DatasetTransformEntity; embedded: EmbeddedDatasetEntity[] }> {
    await this.datasets.get(owner, dto.source_dataset_id);
    const embedders = await this.embedders.getMany(owner.id, dto.embedder_ids);

    const result = await this.dataSource.transaction(async (manager) => {
      const transform = await manager.getRepository(DatasetTransformEntity).save(
        manager.getRepository(DatasetTransformEntity).create({
          ownerId: owner.id,
          title: dto.title,
          sourceDatasetId: dto.source_dataset_id,
          embedderIds: dto.embedder_ids,
          isEnabled: dto.is_enabled ?? true,
          jobConfig: {},
        }),
      );
      const embedded: EmbeddedDatasetEntity[] = [];
      for (const embedder of embedders) {
        embedded.push(await this.embeddedDatasets.createForTransform(manager, transform, embedder));
      }
      return { transform, embedded };
    });

    for (const embeddedDataset of result.embedded) await this.embeddedDatasets.ensureVectorCollection(embeddedDataset);
    await this.scheduleSafely(result.transform);
    return result;
  }

  async list(owner: Owner, limit: number, offset: number, search?: string): Promise<Page<DatasetTransformEntity>> {
    const where = search ? { ownerId: owner.id, title: ILike(`%${escapeLike(search)}%`) } : { ownerId: owner.id };
    const [items, total] = await this.transforms.findAndCount({ where, order: { createdAt: 'DESC' }, take: limit, skip: offset });
    return { items, total_count: total, limit, offset };
  }

  async get(owner: Owner, id: string): Promise<DatasetTransformEntity> {
    const transform = await this.transforms.findOneBy({ id, ownerId: owner.id });
    if (!transform) throw new NotFoundError(DatasetTransformErrorCode.NotFound, `dataset transform ${id} not found`);
    return transform;
  }

  async embeddedDatasetsOf(transformId: string): Promise<EmbeddedDatasetEntity[]> {
    return this.embeddedDatasets.listForTransform(transformId);
  }

  /**
   * Updates title, enabled flag and embedders. An added embedder gets its own embedded
   * dataset (vectors of different models never share one); a removed one loses its
   * embedded dataset and vectors.
   */
  async update(owner: Owner, id: string, dto: UpdateDatasetTransformDto): Promise<DatasetTransformEntity> {
    rejectNullFields(dto, ['title', 'is_enabled', 'embedder_ids']);
    const transform = await this.get(owner, id);
    const existing = await this.embeddedDatasets.listForTransform(id);
    const requestedIds = dto.embedder_ids ?? transform.embedderIds;
    const embedders = await this.embedders.getMany(owner.id, requestedIds);
    const removed = existing.filter((row) => !requestedIds.includes(row.embedderId ?? ''));

    const added = await this.dataSource.transaction(async (manager) => {
      if (dto.title !== undefined) transform.title = dto.title;
      if (dto.is_enabled !== undefined) transform.isEnabled = dto.is_enabled;
      transform.embedderIds = requestedIds;
      await manager.getRepository(DatasetTransformEntity).save(transform);
      await this.embeddedDatasets.deleteRows(manager, removed.map((row) => row.id));
      const created: EmbeddedDatasetEntity[] = [];
      for (const embedder of embedders) {
        if (existing.some((row) => row.embedderId === embedder.id)) continue;
        created.push(await this.embeddedDatasets.createForTransform(manager, transform, embedder));
      }
      return created;
    });

    await this.embeddedDatasets.dropVectorCollections(removed);
    for (const embeddedDataset of added) await this.embeddedDatasets.ensureVectorCollection(embeddedDataset);
    await this.scheduleSafely(transform);
    return transform;
  }

  async delete(owner: Owner, id: string): Promise<void> {
    await this.get(owner, id);
    const embedded = await this.embeddedDatasets.listForTransform(id);
    await retryOnConflict(() => this.transforms.delete({ id, ownerId: owner.id }));
    await this.embeddedDatasets.dropVectorCollections(embedded);
  }

  /** Schedules embedding of every chunk not embedded yet; returns the number of batches created. */
  async trigger(owner: Owner, id: string): Promise<number> {
    const transform = await this.get(owner, id);
    await this.scheduler.redispatchPending(0);
    return this.scheduler.scanTransform(transform);
  }

  /** Embeds again the failed batches of the transform, or the one batch named. */
  async retryFailed(owner: Owner, id: string, batchId?: string): Promise<number> {
    await this.get(owner, id);
    return this.scheduler.retryFailed(id, batchId);
  }

  /** Lists the batches of a transform, newest first, optionally of one status. */
  async listBatches(
    owner: Owner,
    id: string,
    status: BatchStatus | undefined,
    limit: number,
    offset: number,
  ): Promise<Page<DatasetTransformBatchEntity>> {
    await this.get(owner, id);
    const [items, total] = await this.dataSource.getRepository(DatasetTransformBatchEntity).findAndCount({
      where: { datasetTransformId: id, ...(status ? { status } : {}) },
      order: { createdAt: 'DESC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { items, total_count: total, limit, offset };
  }

  async stats(owner: Owner, id: string): Promise<DatasetTransformStats> {
    const transform = await this.get(owner, id);
    const [row] = await this.dataSource.query(
      `SELECT
         (SELECT count(*)::int FROM dataset_item_chunks WHERE dataset_id = $2) AS total_chunks,
         (SELECT count(*)::int FROM embedded_datasets WHERE dataset_transform_id = $1) AS embedded_datasets,
         (SELECT count(*)::int FROM embedded_chunks ec JOIN embedded_datasets ed ON ed.id = ec.embedded_dataset_id
           WHERE ed.dataset_transform_id = $1 AND ec.embedded_at IS NOT NULL) AS chunks_embedded,
         count(*) FILTER (WHERE b.status = 'pending')::int AS pending,
         count(*) FILTER (WHERE b.status = 'processing')::int AS processing,
         count(*) FILTER (WHERE b.status = 'success')::int AS success,
         count(*) FILTER (WHERE b.status = 'failed')::int AS failed
       FROM dataset_transform_batches b WHERE b.dataset_transform_id = $1`,
      [id, transform.sourceDatasetId],
    );
    const expected = row.total_chunks * row.embedded_datasets;
    return {
      dataset_transform_id: id,
      status: aggregateStatus(row, expected),
      total_chunks: row.total_chunks,
      chunks_expected: expected,
      chunks_embedded: row.chunks_embedded,
      batches_pending: row.pending,
      batches_processing: row.processing,
      batches_done: row.success,
      batches_failed: row.failed,
    };
  }

  private async scheduleSafely(transform: DatasetTransformEntity): Promise<void> {
    try {
      await this.scheduler.scanTransform(transform);
    } catch (error) {
      // The periodic reconciliation scans again, so the request itself still succeeds.
      this.logger.error({ err: error, dataset_transform_id: transform.id }, 'embedding scan failed');
    }
  }
}

function aggregateStatus(
  row: { pending: number; processing: number; success: number; failed: number; chunks_embedded: number },
  expected: number,
): string {
  if (row.processing > 0 || row.pending > 0) return row.success + row.failed > 0 || row.processing > 0 ? 'processing' : 'pending';
  if (expected === 0) return 'idle';
  if (row.failed > 0) return row.success > 0 ? 'completed_with_errors' : 'failed';
  return row.chunks_embedded >= expected ? 'completed' : 'pending';
}
