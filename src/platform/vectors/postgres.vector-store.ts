import { DataSource, EntityManager } from 'typeorm';
import { ConflictError, InvalidInputError, NotFoundError, UnavailableError } from 'src/common/app-error';
import { buildPayloadFilterSql } from 'src/platform/vectors/postgres-payload-filter';
import { TopKHeap } from 'src/platform/vectors/top-k-heap';
import { dotProductWithEncoded, encodeNormalizedVector, normalizeVector } from 'src/platform/vectors/vector-math';
import { PayloadFilter, ScoredPoint, SearchOptions, VectorPoint, VectorStore } from 'src/platform/vectors/vector-store';
import {
  assertValidCollectionName,
  assertValidDimensions,
  assertValidFilter,
  assertValidSearchOptions,
  assertValidVector,
  filterHasConditions,
  normalizePointId,
  preparePoints,
} from 'src/platform/vectors/vector-validation';

// 1,000 rows use 3,001 bind parameters (collection name plus three per row), far below
// Postgres's limit of 65,535, and keep one statement's vectors to a few MiB.
const UPSERT_BATCH_ROWS = 1000;
const DELETE_BATCH_IDS = 10_000;
// Rows fetched per round trip during search. Only ids and vectors are held, about 1.5 MiB
// per page at 384 dimensions.
const SEARCH_PAGE_ROWS = 5000;
const FOREIGN_KEY_VIOLATION = '23503';

/**
 * VectorStore on two Postgres tables (see migration VectorStore1764800000001) with
 * exact search: every candidate row is scored in Node.js.
 */
export class PostgresVectorStore extends VectorStore {
  readonly kind = 'postgres' as const;

  constructor(private readonly dataSource: DataSource) {
    super();
  }

  async ensureCollection(name: string, dimensions: number): Promise<void> {
    assertValidCollectionName(name);
    assertValidDimensions(dimensions);
    // A concurrent deleteCollection can remove the row between insert and read; retry then.
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await this.dataSource.query(
        'INSERT INTO vector_collections (name, dimensions) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
        [name, dimensions],
      );
      const existing = await this.findDimensions(this.dataSource.manager, name);
      if (existing === null) {
        continue;
      }
      if (existing !== dimensions) {
        throw new ConflictError(
          'vector_dimension_mismatch',
          `Vector collection "${name}" exists with ${existing} dimensions, but ${dimensions} were requested.`,
          { collection: name, expected: existing, actual: dimensions },
        );
      }
      return;
    }
    throw new Error(`Vector collection "${name}" was deleted concurrently three times while being created`);
  }

  async collectionExists(name: string): Promise<boolean> {
    assertValidCollectionName(name);
    return (await this.findDimensions(this.dataSource.manager, name)) !== null;
  }

  async deleteCollection(name: string): Promise<void> {
    assertValidCollectionName(name);
    // Points go with the collection through ON DELETE CASCADE.
    await this.dataSource.query('DELETE FROM vector_collections WHERE name = $1', [name]);
  }

  async upsert(name: string, points: VectorPoint[]): Promise<void> {
    assertValidCollectionName(name);
    try {
      await this.dataSource.transaction(async (manager) => {
        // FOR SHARE keeps the collection, and so its dimensions, fixed until the commit.
        const dimensions = await this.requireDimensions(manager, name, 'FOR SHARE');
        const prepared = preparePoints(points, dimensions);
        for (let start = 0; start < prepared.length; start += UPSERT_BATCH_ROWS) {
          const batch = prepared.slice(start, start + UPSERT_BATCH_ROWS);
          const params: unknown[] = [name];
          const rows = batch.map((point) => {
            params.push(point.id, encodeNormalizedVector(point.vector), point.payloadJson);
            const base = params.length - 2;
            return `($1, $${base}::uuid, $${base + 1}::bytea, $${base + 2}::jsonb)`;
          });
          await manager.query(
            `INSERT INTO vector_points (collection_name, id, vector, payload) VALUES ${rows.join(', ')}
             ON CONFLICT (collection_name, id) DO UPDATE SET vector = EXCLUDED.vector, payload = EXCLUDED.payload`,
            params,
          );
        }
      });
    } catch (error) {
      if ((error as { code?: string }).code === FOREIGN_KEY_VIOLATION) {
        throw collectionNotFoundError(name);
      }
      throw error;
    }
  }

  async deletePoints(name: string, ids: string[]): Promise<void> {
    assertValidCollectionName(name);
    const normalizedIds = ids.map((id) => normalizePointId(id));
    await this.dataSource.transaction(async (manager) => {
      await this.requireDimensions(manager, name);
      for (let start = 0; start < normalizedIds.length; start += DELETE_BATCH_IDS) {
        await manager.query('DELETE FROM vector_points WHERE collection_name = $1 AND id = ANY($2::uuid[])', [
          name,
          normalizedIds.slice(start, start + DELETE_BATCH_IDS),
        ]);
      }
    });
  }

  async deleteByFilter(name: string, filter: PayloadFilter): Promise<number> {
    assertValidCollectionName(name);
    assertValidFilter(filter);
    if (!filterHasConditions(filter)) {
      throw new InvalidInputError(
        'empty_vector_filter',
        `Refusing to delete by a filter without conditions in vector collection "${name}"; use deleteCollection to remove every point.`,
        { collection: name },
      );
    }
    await this.requireDimensions(this.dataSource.manager, name);
    const params: unknown[] = [name];
    const condition = buildPayloadFilterSql(filter, params);
    const rows: Array<{ deleted: string }> = await this.dataSource.query(
      `WITH removed AS (
         DELETE FROM vector_points WHERE collection_name = $1 AND ${condition} RETURNING 1
       )
       SELECT count(*) AS deleted FROM removed`,
      params,
    );
    return Number(rows[0].deleted);
  }

  async count(name: string, filter?: PayloadFilter): Promise<number> {
    assertValidCollectionName(name);
    if (filter !== undefined) {
      assertValidFilter(filter);
    }
    await this.requireDimensions(this.dataSource.manager, name);
    const params: unknown[] = [name];
    const condition = buildPayloadFilterSql(filter, params);
    const rows: Array<{ total: string }> = await this.dataSource.query(
      `SELECT count(*) AS total FROM vector_points WHERE collection_name = $1 AND ${condition}`,
      params,
    );
    return Number(rows[0].total);
  }

  /**
   * Scores every point that passes the filter and keeps the best `limit` in a heap.
   * Rows arrive in pages ordered by id (keyset pagination on the primary key), so memory
   * use is bounded by one page plus the heap. The pages and the final payload read share one
   * REPEATABLE READ snapshot, so concurrent writes cannot shift rows between pages.
   */
  async search(name: string, vector: number[], options: SearchOptions): Promise<ScoredPoint[]> {
    // Limitation: without an approximate index, time grows linearly with the points that pass the filter.
    assertValidCollectionName(name);
    assertValidSearchOptions(options);
    const queryRunner = this.dataSource.createQueryRunner();
    await queryRunner.connect();
    try {
      await queryRunner.startTransaction('REPEATABLE READ');
      const manager = queryRunner.manager;
      const dimensions = await this.requireDimensions(manager, name);
      assertValidVector(vector, dimensions, 'Query vector');
      const query = normalizeVector(vector);

      const heap = new TopKHeap(options.limit);
      const filterParams: unknown[] = [name];
      const condition = buildPayloadFilterSql(options.filter, filterParams);
      const afterIdParam = filterParams.length + 1;
      let lastId: string | null = null;
      for (;;) {
        const keyset = lastId === null ? '' : `AND id > $${afterIdParam}::uuid`;
        const page: Array<{ id: string; vector: Buffer }> = await manager.query(
          `SELECT id, vector FROM vector_points
           WHERE collection_name = $1 AND ${condition} ${keyset}
           ORDER BY id LIMIT ${SEARCH_PAGE_ROWS}`,
          lastId === null ? filterParams : [...filterParams, lastId],
        );
        for (const row of page) {
          const score = dotProductWithEncoded(row.vector, query);
          if (options.scoreThreshold === undefined || score >= options.scoreThreshold) {
            heap.offer({ id: row.id, score });
          }
        }
        if (page.length < SEARCH_PAGE_ROWS) {
          break;
        }
        lastId = page[page.length - 1].id;
      }

      const best = heap.sorted();
      const payloads = await this.loadPayloads(manager, name, best.map((entry) => entry.id));
      await queryRunner.commitTransaction();
      return best.map((entry) => ({ id: entry.id, score: entry.score, payload: payloads.get(entry.id) ?? {} }));
    } catch (error) {
      if (queryRunner.isTransactionActive) {
        await queryRunner.rollbackTransaction();
      }
      throw error;
    } finally {
      await queryRunner.release();
    }
  }

  async checkHealth(): Promise<void> {
    try {
      await this.dataSource.query('SELECT 1 FROM vector_collections LIMIT 1');
    } catch (error) {
      throw new UnavailableError(
        'vector_store_unavailable',
        `Postgres vector store is not usable: ${error instanceof Error ? error.message : String(error)}. Check the database connection and that migration VectorStore1764800000001 has run.`,
        {},
        { cause: error },
      );
    }
  }

  private async findDimensions(manager: EntityManager, name: string, lock = ''): Promise<number | null> {
    const rows: Array<{ dimensions: number }> = await manager.query(
      `SELECT dimensions FROM vector_collections WHERE name = $1 ${lock}`,
      [name],
    );
    return rows.length === 0 ? null : rows[0].dimensions;
  }

  private async requireDimensions(manager: EntityManager, name: string, lock: '' | 'FOR SHARE' = ''): Promise<number> {
    const dimensions = await this.findDimensions(manager, name, lock);
    if (dimensions === null) {
      throw collectionNotFoundError(name);
    }
    return dimensions;
  }

  private async loadPayloads(manager: EntityManager, name: string, ids: string[]): Promise<Map<string, Record<string, unknown>>> {
    if (ids.length === 0) {
      return new Map();
    }
    const rows: Array<{ id: string; payload: Record<string, unknown> }> = await manager.query(
      'SELECT id, payload FROM vector_points WHERE collection_name = $1 AND id = ANY($2::uuid[])',
      [name, ids],
    );
    return new Map(rows.map((row) => [row.id, row.payload]));
  }
}

function collectionNotFoundError(name: string): NotFoundError {
  return new NotFoundError('vector_collection_not_found', `Vector collection "${name}" was not found.`, {
    collection: name,
  });
}
