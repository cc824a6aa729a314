import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatasetItemChunkEntity } from 'src/datasets/dataset-item-chunk.entity';
import { DatasetItemEntity } from 'src/datasets/dataset-item.entity';
import { DatasetEntity } from 'src/datasets/dataset.entity';
import { DatasetsController } from 'src/datasets/datasets.controller';
import { DatasetsService } from 'src/datasets/datasets.service';

@Module({})
export class DatasetsModule {
  static register(options: { http: boolean }): DynamicModule {
    return {
      module: DatasetsModule,
      global: true,
      imports: [TypeOrmModule.forFeature([DatasetEntity, DatasetItemEntity, DatasetItemChunkEntity])],
      controllers: options.http ? [DatasetsController] : [],
      providers: [DatasetsService],
      exports: [DatasetsService],
    };
  }
}
