import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
// Relative because jest maps only `src/*` to absolute imports.
import { VectorStore1764800000001 } from '../../../migrations/1764800000001-vector-store';
import { AppError } from 'src/common/app-error';
import { PostgresVectorStore } from 'src/platform/vectors/postgres.vector-store';
import { runVectorStoreContract } from 'src/platform/vectors/vector-store.contract';

const POSTGRES = { type: 'postgres' as const, host: '127.0.0.1', port: 5432, username: 'postgres' };

describe(PostgresVectorStore.name, () => {
  const databaseName = `se_test_vectors_${randomBytes(6).toString('hex')}`;
  let admin: DataSource;
  let dataSource: DataSource;

  beforeAll(async () => {
    admin = await new DataSource({ ...POSTGRES, database: 'postgres' }).initialize();
    await admin.query(`CREATE DATABASE ${databaseName}`);
    dataSource = await new DataSource({
      ...POSTGRES,
      database: databaseName,
      migrations: [VectorStore1764800000001],
    }).initialize();
    await dataSource.runMigrations();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await admin?.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await admin?.destroy();
  });

  runVectorStoreContract('postgres', async () => new PostgresVectorStore(dataSource));

  describe('postgres specifics', () => {
    it('stores vectors as unit-length float32 little-endian bytes', async () => {
      const sut = new PostgresVectorStore(dataSource);
      await sut.ensureCollection('storage_format', 2);
      const id = '6f1c1d4e-8a57-4a4e-9f0b-0c3c1b8a9d10';

      await sut.upsert('storage_format', [{ id, vector: [3, 4], payload: {} }]);

      const [row] = await dataSource.query('SELECT vector FROM vector_points WHERE id = $1', [id]);
      expect(row.vector.length).toBe(8);
      expect(row.vector.readFloatLE(0)).toBeCloseTo(0.6, 6);
      expect(row.vector.readFloatLE(4)).toBeCloseTo(0.8, 6);
    });

    it('rejects a payload containing NUL', async () => {
      const sut = new PostgresVectorStore(dataSource);
      await sut.ensureCollection('nul_payload', 2);

      const error = await sut
        .upsert('nul_payload', [{ id: '0b1f5f0e-7d0c-4c6b-8f7e-2a4b6c8d0e12', vector: [1, 0], payload: { text: 'a\u0000b' } }])
        .catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('invalid_vector_payload');
    });

    it('checkHealth throws vector_store_unavailable without the tables', async () => {
      const emptyName = `${databaseName}_empty`;
      await admin.query(`CREATE DATABASE ${emptyName}`);
      const empty = await new DataSource({ ...POSTGRES, database: emptyName }).initialize();
      try {
        const error = await new PostgresVectorStore(empty).checkHealth().catch((caught: unknown) => caught);

        expect(error).toBeInstanceOf(AppError);
        expect((error as AppError).code).toBe('vector_store_unavailable');
        expect((error as AppError).kind).toBe('unavailable');
      } finally {
        await empty.destroy();
        await admin.query(`DROP DATABASE IF EXISTS ${emptyName} WITH (FORCE)`);
      }
    });

    it('migration down drops the tables and up recreates them', async () => {
      const migrationName = `${databaseName}_migration`;
      await admin.query(`CREATE DATABASE ${migrationName}`);
      const target = await new DataSource({
        ...POSTGRES,
        database: migrationName,
        migrations: [VectorStore1764800000001],
      }).initialize();
      const tablesQuery = `SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_name LIKE 'vector_%' ORDER BY table_name`;
      try {
        await target.runMigrations();
        expect((await target.query(tablesQuery)).map((row: { table_name: string }) => row.table_name)).toEqual([
          'vector_collections',
          'vector_points',
        ]);

        await target.undoLastMigration();
        expect(await target.query(tablesQuery)).toEqual([]);

        await target.runMigrations();
        const indexes = await target.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'vector_points_payload_idx'`);
        expect(indexes[0].indexdef).toContain('gin (payload jsonb_path_ops)');
      } finally {
        await target.destroy();
        await admin.query(`DROP DATABASE IF EXISTS ${migrationName} WITH (FORCE)`);
      }
    });
  });
});
