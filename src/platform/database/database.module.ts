import { Injectable, Logger, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DatabaseConfig } from 'src/config/app-config';
import { buildDataSourceOptions } from 'src/platform/database/data-source-options';
import { runMigrations } from 'src/platform/database/run-migrations';

/** Applies pending migrations at start-up when DB_RUN_MIGRATIONS=true, before any module uses the schema. */
@Injectable()
export class StartupMigrations implements OnModuleInit {
  private readonly logger = new Logger(StartupMigrations.name);

  constructor(
    private readonly config: DatabaseConfig,
    private readonly dataSource: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.runMigrations) return;
    const applied = await runMigrations(this.dataSource);
    this.logger.log({ applied }, 'database migrations checked');
  }
}

/**
 * The TypeORM connection. Domain modules register their entities with
 * `TypeOrmModule.forFeature`, which `autoLoadEntities` picks up.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [DatabaseConfig],
      useFactory: (config: DatabaseConfig) => ({
        ...buildDataSourceOptions(config),
        autoLoadEntities: true,
        retryAttempts: 5,
        retryDelay: 2000,
      }),
    }),
  ],
  providers: [StartupMigrations],
})
export class DatabaseModule {}
