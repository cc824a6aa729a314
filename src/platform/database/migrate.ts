import { DataSource } from 'typeorm';
import { loadConfig } from 'src/config/app-config';
import { buildDataSourceOptions } from 'src/platform/database/data-source-options';
import { createDatabaseIfMissing, runMigrations } from 'src/platform/database/run-migrations';

/** `npm run migrate [-- --create-database]`: applies pending migrations and exits. */
async function main(): Promise<void> {
  const config = loadConfig();
  if (process.argv.includes('--create-database')) {
    const created = await createDatabaseIfMissing(config.database.url);
    if (created) console.log('database created');
  }
  const dataSource = new DataSource(buildDataSourceOptions(config.database));
  await dataSource.initialize();
  try {
    const applied = await runMigrations(dataSource);
    console.log(applied.length > 0 ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
