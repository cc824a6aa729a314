import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import { InvalidInputError, NotFoundError } from 'src/common/app-error';
import { toPostgresJson } from 'src/common/postgres-json';
import { Owner } from 'src/common/owner';
import { Page } from 'src/common/validation';
import { EmbeddedDatasetEntity } from 'src/embedded-datasets/embedded-dataset.entity';
import { EmbeddedDatasetErrorCode } from 'src/embedded-datasets/embedded-datasets.errors';
import { EmbedderEntity } from 'src/embedders/embedder.entity';
import { PayloadFilter, VectorPoint, VectorStore } from 'src/platform/vectors/vector-store';

export interface EmbeddedDatasetStats {
  embedded_dataset_id: string;
  total_chunks: number;
  chunks_embedded: number;
  chunks_pending: number;
  batches: { pending: number; processing: number; success: number; failed: number };
  points: number;
  last_embedded_at: string | null;
}

/** Embedded datasets and the vector-store collections behind them. */
@Injectable()
export class EmbeddedDatasetsService {
  private readonly logger = new Logger(EmbeddedDatasetsService.name);

  constructor(
    @InjectRepository(EmbeddedDatasetEntity) private readonly embeddedDatasets: Repository<EmbeddedDatasetEntity>,
    private readonly vectors: VectorStore,
  ) {}

  static collectionNameFor(id: string): string {
    return `embedded-dataset-${id}`;
  }

  async list(owner: Owner, limit: number, offset: number): Promise<Page<EmbeddedDatasetEntity>> {
    const [items, total] = await this.embeddedDatasets.findAndCount({
      where: { ownerId: owner.id },
      order: { createdAt: 'DESC' },
      take: limit,
      skip: offset,
    });
    return { items, total_count: total, limit, offset };
  }

  async get(owner: Owner, id: string): Promise<EmbeddedDatasetEntity> {
    const found = await this.embeddedDatasets.findOneBy({ id, ownerId: owner.id });
    if (!found) throw new NotFoundError(EmbeddedDatasetErrorCode.NotFound, `embedded dataset ${id} not found`);
    return found;
  }

  async getMany(owner: Owner, ids: string[]): Promise<EmbeddedDatasetEntity[]> {
    ids = ids.map((id) => id.toLowerCase());
    const found = await this.embeddedDatasets.findBy({ id: In(ids), ownerId: owner.id });
    const missing = ids.filter((id) => !found.some((row) => row.id === id));
    if (missing.length > 0) {
      throw new NotFoundError(EmbeddedDatasetErrorCode.NotFound, `embedded dataset ${missing.join(', ')} not found`);
    }
    return ids.map((id) => found.find((row) => row.id === id)!);
  }

  async findById(id: string): Promise<EmbeddedDatasetEntity | null> {
    return this.embeddedDatasets.findOneBy({ id });
  }

  async listForTransform(transformId: string): Promise<EmbeddedDatasetEntity[]> {
    return this.embeddedDatasets.find({ where: { datasetTransformId: transformId }, order: { createdAt: 'ASC' } });
  }

  async listForDatasets(datasetIds: string[]): Promise<EmbeddedDatasetEntity[]> {
    if (datasetIds.length === 0) return [];
    return this.embeddedDatasets.findBy({ sourceDatasetId: In(datasetIds) });
  }

  /** Creates the embedded dataset of one (transform, embedder) pair inside the caller's transaction. */
  async createForTransform(
    manager: EntityManager,
    transform: { id: string; ownerId: string; title: string; sourceDatasetId: string },
    embedder: EmbedderEntity,
  ): Promise<EmbeddedDatasetEntity> {
    const repository = manager.getRepository(EmbeddedDatasetEntity);
    const row = repository.create({
      ownerId: transform.ownerId,
      title: `${transform.title} (${embedder.name})`.slice(0, 256),
      datasetTransformId: transform.id,
      sourceDatasetId: transform.sourceDatasetId,
      embedderId: embedder.id,
      dimensions: embedder.dimensions,
      // Filled in below once the id exists; the column is NOT NULL, so a placeholder goes first.
      collectionName: `pending-${transform.id}-${embedder.id}`,
    });
    const saved = await repository.save(row);
    saved.collectionName = EmbeddedDatasetsService.collectionNameFor(saved.id);
    return repository.save(saved);
  }

  /** Creates an embedded dataset with no embedder, filled only through `pushVectors`. */
  async createStandalone(owner: Owner, title: string, dimensions: number): Promise<EmbeddedDatasetEntity> {
    const saved = await this.embeddedDatasets.save(
      this.embeddedDatasets.create({ ownerId: owner.id, title, dimensions, collectionName: `pending-${randomUUID()}` }),
    );
    saved.collectionName = EmbeddedDatasetsService.collectionNameFor(saved.id);
    await this.embeddedDatasets.save(saved);
    try {
      await this.vectors.ensureCollection(saved.collectionName, dimensions);
    } catch (error) {
      await this.embeddedDatasets.delete({ id: saved.id });
      throw error;
    }
    return saved;
  }

  /**
   * Stores caller-made vectors in a standalone embedded dataset. Points with an id replace the
   * point of that id; the vector store checks ids and vector lengths.
   */
  async pushVectors(owner: Owner, id: string, points: VectorPoint[]): Promise<{ points_inserted: number; collection_name: string }> {
    const embeddedDataset = await this.get(owner, id);
    if (embeddedDataset.datasetTransformId !== null) {
      throw new InvalidInputError(
        'embedded_dataset_not_standalone',
        `embedded dataset ${id} is filled by its dataset transform; push vectors to a standalone embedded dataset`,
      );
    }
    await this.vectors.ensureCollection(embeddedDataset.collectionName, embeddedDataset.dimensions);
    // Payloads come from the caller; the Postgres vector store keeps them in jsonb.
    const cleaned = points.map((point) => ({ ...point, payload: toPostgresJson(point.payload) }));
    await this.vectors.upsert(embeddedDataset.collectionName, cleaned);
    return { points_inserted: points.length, collection_name: embeddedDataset.collectionName };
  }

  /** Deletes a standalone embedded dataset and its vectors; transform-backed ones go with their transform. */
  async deleteStandalone(owner: Owner, id: string): Promise<void> {
    const embeddedDataset = await this.get(owner, id);
    if (embeddedDataset.datasetTransformId !== null) {
      throw new InvalidInputError(
        'embedded_dataset_not_standalone',
        `embedded dataset ${id} belongs to a dataset transform; remove its embedder from the transform instead`,
      );
    }
    await this.vectors.deleteCollection(embeddedDataset.collectionName);
    await this.embeddedDatasets.delete({ id });
  }

  async ensureVectorCollection(embeddedDataset: EmbeddedDatasetEntity): Promise<void> {
    await this.vectors.ensureCollection(embeddedDataset.collectionName, embeddedDataset.dimensions);
  }

  /** Deletes the vector collections of these embedded datasets; the rows go with their transform or dataset. */
  async dropVectorCollections(embeddedDatasets: EmbeddedDatasetEntity[]): Promise<void> {
    for (const embeddedDataset of embeddedDatasets) {
      await this.vectors.deleteCollection(embeddedDataset.collectionName);
    }
  }

  async deleteRows(manager: EntityManager, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await manager.getRepository(EmbeddedDatasetEntity).delete({ id: In(ids) });
  }

  /** Removes the points matching `filter` from every embedded dataset of the given datasets. */
  async deletePoints(datasetIds: string[], filter: PayloadFilter): Promise<number> {
    let deleted = 0;
    for (const embeddedDataset of await this.listForDatasets(datasetIds)) {
      if (!(await this.vectors.collectionExists(embeddedDataset.collectionName))) continue;
      deleted += await this.vectors.deleteByFilter(embeddedDataset.collectionName, filter);
    }
    return deleted;
  }

  async countPoints(embeddedDataset: EmbeddedDatasetEntity, filter?: PayloadFilter): Promise<number> {
    if (!(await this.vectors.collectionExists(embeddedDataset.collectionName))) return 0;
    return this.vectors.count(embeddedDataset.collectionName, filter);
  }

  async stats(owner: Owner, id: string): Promise<EmbeddedDatasetStats> {
    const embeddedDataset = await this.get(owner, id);
    const [chunkRow] = await this.embeddedDatasets.query(
      `SELECT
         (SELECT count(*)::int FROM dataset_item_chunks WHERE dataset_id = $2) AS total_chunks,
         (SELECT count(*)::int FROM embedded_chunks WHERE embedded_dataset_id = $1 AND embedded_at IS NOT NULL) AS embedded,
         (SELECT max(embedded_at) FROM embedded_chunks WHERE embedded_dataset_id = $1) AS last_embedded_at`,
      [id, embeddedDataset.sourceDatasetId],
    );
    const batchRows: Array<{ status: string; count: number }> = await this.embeddedDatasets.query(
      `SELECT status, count(*)::int AS count FROM dataset_transform_batches WHERE embedded_dataset_id = $1 GROUP BY status`,
      [id],
    );
    const batches = { pending: 0, processing: 0, success: 0, failed: 0 };
    for (const row of batchRows) batches[row.status as keyof typeof batches] = row.count;
    return {
      embedded_dataset_id: id,
      total_chunks: chunkRow.total_chunks,
      chunks_embedded: chunkRow.embedded,
      chunks_pending: Math.max(0, chunkRow.total_chunks - chunkRow.embedded),
      batches,
      points: await this.countPoints(embeddedDataset),
      last_embedded_at: chunkRow.last_embedded_at ? new Date(chunkRow.last_embedded_at).toISOString() : null,
    };
  }
}
