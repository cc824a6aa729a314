import { DataSource } from 'typeorm';

// Any constant works; it only has to be the same in every replica that starts at once.
const MIGRATION_LOCK_KEY = 7_164_800_000;

/**
 * Applies pending migrations under a Postgres advisory lock, so that replicas started
 * together with DB_RUN_MIGRATIONS=true run them once. Returns the names applied.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}

/** Creates the database named in `url` when it does not exist yet (used by the setup command). */
export async function createDatabaseIfMissing(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    throw new Error(`database name "${name}" in DATABASE_URL may contain only letters, digits, "_" and "-"`);
  }
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const dataSource = new DataSource({ type: 'postgres', url: admin.toString() });
  await dataSource.initialize();
  try {
    const rows: unknown[] = await dataSource.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rows.length > 0) return false;
    await dataSource.query(`CREATE DATABASE "${name}"`);
    return true;
  } finally {
    await dataSource.destroy();
  }
}
