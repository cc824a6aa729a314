import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatasetTransformBatchEntity } from 'src/dataset-transforms/dataset-transform-batch.entity';
import { DatasetTransformEntity } from 'src/dataset-transforms/dataset-transform.entity';
import { DatasetTransformsController } from 'src/dataset-transforms/dataset-transforms.controller';
import { DatasetTransformsService } from 'src/dataset-transforms/dataset-transforms.service';
import { EmbeddingBatchService } from 'src/dataset-transforms/embedding-batch.service';
import { EmbeddingScheduler } from 'src/dataset-transforms/embedding-scheduler.service';

@Module({})
export class DatasetTransformsModule {
  static register(options: { http: boolean }): DynamicModule {
    return {
      module: DatasetTransformsModule,
      global: true,
      imports: [TypeOrmModule.forFeature([DatasetTransformEntity, DatasetTransformBatchEntity])],
      controllers: options.http ? [DatasetTransformsController] : [],
      providers: [DatasetTransformsService, EmbeddingScheduler, EmbeddingBatchService],
      exports: [DatasetTransformsService, EmbeddingScheduler, EmbeddingBatchService],
    };
  }
}
