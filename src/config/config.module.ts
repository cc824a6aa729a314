import { DynamicModule, Global, Module } from '@nestjs/common';
import {
  AppConfig,
  DatabaseConfig,
  InferenceConfig,
  NatsConfig,
  PipelineConfig,
  SecurityConfig,
  ServerConfig,
  StorageConfig,
} from 'src/config/app-config';

/** Provides the validated configuration as typed sections, so a class injects only what it uses. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    const providers = [
      { provide: AppConfig, useValue: config },
      { provide: ServerConfig, useValue: config.server },
      { provide: DatabaseConfig, useValue: config.database },
      { provide: NatsConfig, useValue: config.nats },
      { provide: StorageConfig, useValue: config.storage },
      { provide: PipelineConfig, useValue: config.pipeline },
      { provide: SecurityConfig, useValue: config.security },
      { provide: InferenceConfig, useValue: config.inference },
    ];
    return { module: ConfigModule, providers, exports: providers.map((provider) => provider.provide) };
  }
}
