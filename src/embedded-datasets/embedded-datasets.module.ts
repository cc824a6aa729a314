import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EmbeddedDatasetEntity } from 'src/embedded-datasets/embedded-dataset.entity';
import { EmbeddedDatasetsController } from 'src/embedded-datasets/embedded-datasets.controller';
import { EmbeddedDatasetsService } from 'src/embedded-datasets/embedded-datasets.service';

@Module({})
export class EmbeddedDatasetsModule {
  static register(options: { http: boolean }): DynamicModule {
    return {
      module: EmbeddedDatasetsModule,
      global: true,
      imports: [TypeOrmModule.forFeature([EmbeddedDatasetEntity])],
      controllers: options.http ? [EmbeddedDatasetsController] : [],
      providers: [EmbeddedDatasetsService],
      exports: [EmbeddedDatasetsService],
    };
  }
}
