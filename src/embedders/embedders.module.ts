import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EmbedderEntity } from 'src/embedders/embedder.entity';
import { EmbeddersController } from 'src/embedders/embedders.controller';
import { EmbeddersService } from 'src/embedders/embedders.service';
import { SecretSealer } from 'src/platform/crypto/secret-sealer';

@Module({})
export class EmbeddersModule {
  /** `http` adds the REST routes; worker roles use the service only. */
  static register(options: { http: boolean }): DynamicModule {
    return {
      module: EmbeddersModule,
      global: true,
      imports: [TypeOrmModule.forFeature([EmbedderEntity])],
      controllers: options.http ? [EmbeddersController] : [],
      providers: [EmbeddersService, SecretSealer],
      exports: [EmbeddersService],
    };
  }
}
