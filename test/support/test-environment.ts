import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AppConfig, loadConfig } from 'src/config/app-config';
import { buildDataSourceOptions } from 'src/platform/database/data-source-options';
import { runMigrations } from 'src/platform/database/run-migrations';

export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
export { CORPUS_DIR } from 'src/testing/corpus';

/**
 * An isolated environment for one test file: its own database, stream prefix and data
 * folder, all removed by `destroy()`.
 */
export class TestEnvironment {
  readonly id = randomBytes(4).toString('hex');
  readonly databaseName: string;
  readonly databaseUrl: string;
  readonly streamPrefix: string;
  readonly dataDir: string;

  constructor(label: string) {
    this.databaseName = `se_test_${label}_${this.id}`;
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${this.databaseName}`;
    this.databaseUrl = url.toString();
    this.streamPrefix = `t${label}${this.id}`;
    this.dataDir = mkdtempSync(path.join(tmpdir(), `se-${label}-`));
  }

  /** Environment variables for a process of this test environment. */
  env(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      DATABASE_URL: this.databaseUrl,
      NATS_URL,
      NATS_STREAM_PREFIX: this.streamPrefix,
      DATA_DIR: this.dataDir,
      HOSTNAME: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      JOB_RETRY_BACKOFF_SECS: '1,1,2,2',
      RECONCILIATION_INTERVAL_SECS: '3',
      SHUTDOWN_TIMEOUT_SECS: '10',
      ...overrides,
    };
  }

  config(overrides: Record<string, string> = {}): AppConfig {
    return loadConfig(this.env(overrides));
  }

  async createDatabase(): Promise<void> {
    const admin = new Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${this.databaseName}"`);
    } finally {
      await admin.end();
    }
    const dataSource = new DataSource(buildDataSourceOptions(this.config().database));
    await dataSource.initialize();
    try {
      await runMigrations(dataSource);
    } finally {
      await dataSource.destroy();
    }
  }

  /** A plain connection for assertions on stored rows. */
  async query<T = Record<string, unknown>>(sql: string, parameters: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      return (await client.query(sql, parameters)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async destroy(): Promise<void> {
    const admin = new Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${this.databaseName}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
    const connection = await connect({ servers: NATS_URL });
    try {
      const manager = await jetstreamManager(connection);
      const prefix = `${this.streamPrefix.toUpperCase()}_`;
      for await (const name of manager.streams.names()) {
        if (name.startsWith(prefix)) await manager.streams.delete(name);
      }
    } finally {
      await connection.close();
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${last ? `: ${String(last)}` : ''}`);
}
