import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, ILike, In, Repository } from 'typeorm';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { NotFoundError } from 'src/common/app-error';
import { toPostgresJson, toPostgresText } from 'src/common/postgres-json';
import { retryOnConflict } from 'src/platform/database/retry-on-conflict';
import { Owner } from 'src/common/owner';
import { Page, rejectNullFields } from 'src/common/validation';
import { DatasetItemChunkEntity } from 'src/datasets/dataset-item-chunk.entity';
import { DatasetItemEntity } from 'src/datasets/dataset-item.entity';
import { DatasetEntity } from 'src/datasets/dataset.entity';
import { DatasetErrorCode } from 'src/datasets/datasets.errors';
import { CreateDatasetDto, UpdateDatasetDto } from 'src/datasets/dto/create-dataset.dto';
import { EmbeddedDatasetsService } from 'src/embedded-datasets/embedded-datasets.service';
import { escapeLike } from 'src/embedders/embedders.service';

// Stays well under Postgres's limit of 65,535 bind parameters per statement (8 columns a row).
const CHUNK_INSERT_BATCH = 1000;

export interface NewChunk {
  text: string;
  start: number;
  end: number;
  metadata: Record<string, unknown>;
}

export interface NewItem {
  /** Archive entry or attachment path inside the file; empty for the file's own text. */
  entryPath: string;
  title: string;
  metadata: Record<string, unknown>;
  chunks: NewChunk[];
}

export interface FileItemReplacement {
  ownerId: string;
  datasetId: string;
  collectionTransformId: string;
  fileId: string;
  fileRevision: string;
  items: NewItem[];
}

export interface FileEmbeddingProgress {
  fileId: string;
  /** Chunks of the file times the embedded datasets that must hold them. */
  expected: number;
  batched: number;
  embedded: number;
  lastEmbeddedAt: Date | null;
  /** Chunks whose batch failed for good and that are not embedded. */
  failed: number;
  /** Error of one such batch. */
  failure: string | null;
}

@Injectable()
export class DatasetsService {
  constructor(
    @InjectRepository(DatasetEntity) private readonly datasets: Repository<DatasetEntity>,
    @InjectRepository(DatasetItemEntity) private readonly items: Repository<DatasetItemEntity>,
    @InjectRepository(DatasetItemChunkEntity) private readonly chunks: Repository<DatasetItemChunkEntity>,
    private readonly embeddedDatasets: EmbeddedDatasetsService,
  ) {}

  async create(owner: Owner, dto: CreateDatasetDto): Promise<DatasetEntity> {
    return this.datasets.save(
      this.datasets.create({
        ownerId: owner.id,
        title: dto.title,
        details: dto.details ?? null,
        tags: dto.tags ?? [],
        isPublic: dto.is_public ?? false,
      }),
    );
  }

  async list(owner: Owner, limit: number, offset: number, search?: string): Promise<Page<DatasetEntity>> {
    const where = search ? { ownerId: owner.id, title: ILike(`%${escapeLike(search)}%`) } : { ownerId: owner.id };
    const [items, total] = await this.datasets.findAndCount({ where, order: { createdAt: 'DESC' }, take: limit, skip: offset });
    return { items, total_count: total, limit, offset };
  }

  async get(owner: Owner, id: string): Promise<DatasetEntity> {
    const dataset = await this.datasets.findOneBy({ id, ownerId: owner.id });
    if (!dataset) throw new NotFoundError(DatasetErrorCode.NotFound, `dataset ${id} not found`);
    return dataset;
  }

  async counts(datasetIds: string[]): Promise<Map<string, { items: number; chunks: number }>> {
    const result = new Map<string, { items: number; chunks: number }>(datasetIds.map((id) => [id, { items: 0, chunks: 0 }]));
    if (datasetIds.length === 0) return result;
    const rows: Array<{ dataset_id: string; items: number; chunks: number }> = await this.datasets.query(
      `SELECT d.id AS dataset_id,
              (SELECT count(*)::int FROM dataset_items i WHERE i.dataset_id = d.id) AS items,
              (SELECT count(*)::int FROM dataset_item_chunks c WHERE c.dataset_id = d.id) AS chunks
         FROM datasets d WHERE d.id = ANY($1)`,
      [datasetIds],
    );
    for (const row of rows) result.set(row.dataset_id, { items: row.items, chunks: row.chunks });
    return result;
  }

  async update(owner: Owner, id: string, dto: UpdateDatasetDto): Promise<DatasetEntity> {
    rejectNullFields(dto, ['title', 'tags', 'is_public']);
    const dataset = await this.get(owner, id);
    if (dto.title !== undefined) dataset.title = dto.title;
    if (dto.details !== undefined) dataset.details = dto.details;
    if (dto.tags !== undefined) dataset.tags = dto.tags;
    if (dto.is_public !== undefined) dataset.isPublic = dto.is_public;
    return this.datasets.save(dataset);
  }

  /** Deletes the dataset with its items, chunks, transforms and the vectors of its embedded datasets. */
  async delete(owner: Owner, id: string): Promise<void> {
    await this.get(owner, id);
    const embedded = await this.embeddedDatasets.listForDatasets([id]);
    await this.embeddedDatasets.dropVectorCollections(embedded);
    await retryOnConflict(() => this.datasets.delete({ id, ownerId: owner.id }));
  }

  async listItems(owner: Owner, datasetId: string, limit: number, offset: number) {
    await this.get(owner, datasetId);
    const [items, total] = await this.items.findAndCount({
      where: { datasetId, ownerId: owner.id },
      order: { createdAt: 'ASC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    const chunkCounts = await this.chunkCounts(items.map((item) => item.id));
    return { items, chunkCounts, total_count: total, limit, offset };
  }

  async getItem(owner: Owner, datasetId: string, itemId: string): Promise<DatasetItemEntity> {
    const item = await this.items.findOneBy({ id: itemId, datasetId, ownerId: owner.id });
    if (!item) throw new NotFoundError(DatasetErrorCode.ItemNotFound, `item ${itemId} not found in dataset ${datasetId}`);
    return item;
  }

  async listItemChunks(owner: Owner, datasetId: string, itemId: string): Promise<DatasetItemChunkEntity[]> {
    await this.getItem(owner, datasetId, itemId);
    return this.chunks.find({ where: { itemId }, order: { chunkIndex: 'ASC' } });
  }

  async deleteItem(owner: Owner, datasetId: string, itemId: string): Promise<void> {
    await this.getItem(owner, datasetId, itemId);
    await retryOnConflict(() => this.items.delete({ id: itemId }));
    await this.embeddedDatasets.deletePoints([datasetId], { must: [{ key: 'item_id', match: { value: itemId } }] });
  }

  /**
   * Replaces the items that a collection transform made from a file, inside the caller's
   * transaction: the previous items and their chunks go, the new ones come in. Returns the ids
   * of the removed items, whose vectors the caller deletes after the commit.
   */
  async replaceFileItems(manager: EntityManager, replacement: FileItemReplacement): Promise<{ itemIds: string[]; removedItemIds: string[] }> {
    const itemRepository = manager.getRepository(DatasetItemEntity);
    const previous = await itemRepository.find({
      select: { id: true },
      where: { collectionTransformId: replacement.collectionTransformId, sourceFileId: replacement.fileId },
    });
    if (previous.length > 0) await itemRepository.delete({ id: In(previous.map((item) => item.id)) });

    const itemIds: string[] = [];
    for (const newItem of replacement.items) {
      const item = await itemRepository.save(
        itemRepository.create({
          ownerId: replacement.ownerId,
          datasetId: replacement.datasetId,
          title: toPostgresText(newItem.title),
          metadata: toPostgresJson(newItem.metadata),
          collectionTransformId: replacement.collectionTransformId,
          sourceFileId: replacement.fileId,
          sourceFileRevision: replacement.fileRevision,
          sourceEntryPath: newItem.entryPath,
        }),
      );
      await this.insertChunks(manager, replacement, item.id, newItem.chunks);
      itemIds.push(item.id);
    }
    return { itemIds, removedItemIds: previous.map((row) => row.id) };
  }

  private async insertChunks(
    manager: EntityManager,
    owner: { ownerId: string; datasetId: string },
    itemId: string,
    chunks: NewChunk[],
  ): Promise<void> {
    const chunkRepository = manager.getRepository(DatasetItemChunkEntity);
    for (let offset = 0; offset < chunks.length; offset += CHUNK_INSERT_BATCH) {
      const slice = chunks.slice(offset, offset + CHUNK_INSERT_BATCH);
      await chunkRepository.insert(
        slice.map((chunk, index) => ({
          ownerId: owner.ownerId,
          datasetId: owner.datasetId,
          itemId,
          chunkIndex: offset + index,
          text: toPostgresText(chunk.text),
          charStart: chunk.start,
          charEnd: chunk.end,
          // jsonb columns accept any object; TypeORM's deep-partial type cannot express that.
          metadata: toPostgresJson(chunk.metadata) as QueryDeepPartialEntity<Record<string, unknown>>,
        })),
      );
    }
  }

  /** Deletes the vectors of items that no longer exist, from every embedded dataset of the dataset. */
  async deleteVectorsOfItems(datasetId: string, itemIds: string[]): Promise<number> {
    if (itemIds.length === 0) return 0;
    return this.embeddedDatasets.deletePoints([datasetId], { must: [{ key: 'item_id', match: { any: itemIds } }] });
  }

  async fileEmbeddingProgress(fileIds: string[]): Promise<Map<string, FileEmbeddingProgress>> {
    const result = new Map<string, FileEmbeddingProgress>();
    if (fileIds.length === 0) return result;
    const rows: Array<{
      file_id: string;
      expected: number;
      batched: number;
      embedded: number;
      last_embedded_at: Date | null;
      failed: number;
      failure: string | null;
    }> =
      await this.chunks.query(
        `WITH file_chunks AS (
           SELECT i.source_file_id AS file_id, c.id AS chunk_id, c.dataset_id
             FROM dataset_items i JOIN dataset_item_chunks c ON c.item_id = i.id
            WHERE i.source_file_id = ANY($1)
         ), expected AS (
           SELECT fc.file_id, count(*)::int AS expected
             FROM file_chunks fc JOIN embedded_datasets ed ON ed.source_dataset_id = fc.dataset_id
            GROUP BY fc.file_id
         ), done AS (
           SELECT fc.file_id, count(ec.chunk_id)::int AS batched, count(ec.embedded_at)::int AS embedded,
                  max(ec.embedded_at) AS last_embedded_at,
                  count(*) FILTER (WHERE b.status = 'failed' AND ec.embedded_at IS NULL)::int AS failed,
                  max(b.error_message) FILTER (WHERE b.status = 'failed' AND ec.embedded_at IS NULL) AS failure
             FROM file_chunks fc JOIN embedded_chunks ec ON ec.chunk_id = fc.chunk_id
             LEFT JOIN dataset_transform_batches b ON b.id = ec.batch_id
            GROUP BY fc.file_id
         )
         SELECT e.file_id, e.expected, coalesce(d.batched, 0) AS batched, coalesce(d.embedded, 0) AS embedded,
                d.last_embedded_at, coalesce(d.failed, 0) AS failed, d.failure
           FROM expected e LEFT JOIN done d USING (file_id)`,
        [fileIds],
      );
    for (const row of rows) {
      result.set(row.file_id, {
        fileId: row.file_id,
        expected: row.expected,
        batched: row.batched,
        embedded: row.embedded,
        lastEmbeddedAt: row.last_embedded_at ? new Date(row.last_embedded_at) : null,
        failed: row.failed,
        failure: row.failure,
      });
    }
    return result;
  }

  private async chunkCounts(itemIds: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (itemIds.length === 0) return counts;
    const rows: Array<{ item_id: string; count: number }> = await this.chunks.query(
      'SELECT item_id, count(*)::int AS count FROM dataset_item_chunks WHERE item_id = ANY($1) GROUP BY item_id',
      [itemIds],
    );
    for (const row of rows) counts.set(row.item_id, row.count);
    return counts;
  }
}
