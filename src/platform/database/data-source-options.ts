import { DataSourceOptions } from 'typeorm';
import { DatabaseConfig } from 'src/config/app-config';
import { MIGRATIONS } from '../../../migrations';

/** Connection and pool settings shared by the application and the migration command. */
export function buildDataSourceOptions(config: DatabaseConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.url,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each',
    synchronize: false,
    poolSize: config.maxConnections,
    extra: {
      max: config.maxConnections,
      min: config.minConnections,
      connectionTimeoutMillis: config.acquireTimeoutSecs * 1000,
      idleTimeoutMillis: config.idleTimeoutSecs * 1000,
      maxLifetimeSeconds: config.maxLifetimeSecs,
      // A runaway query or a transaction left open must not hold locks for long.
      options: `-c statement_timeout=${config.statementTimeoutSecs * 1000} -c idle_in_transaction_session_timeout=60000`,
      application_name: 'semantic-explorer',
    },
  };
}
