import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CollectionTransformEntity } from 'src/collection-transforms/collection-transform.entity';
import { CollectionTransformsController } from 'src/collection-transforms/collection-transforms.controller';
import { CollectionTransformsService } from 'src/collection-transforms/collection-transforms.service';
import { FileProcessingService } from 'src/collection-transforms/file-processing.service';
import { TransformProcessedFileEntity } from 'src/collection-transforms/transform-processed-file.entity';

@Module({})
export class CollectionTransformsModule {
  static register(options: { http: boolean }): DynamicModule {
    return {
      module: CollectionTransformsModule,
      global: true,
      imports: [TypeOrmModule.forFeature([CollectionTransformEntity, TransformProcessedFileEntity])],
      controllers: options.http ? [CollectionTransformsController] : [],
      providers: [CollectionTransformsService, FileProcessingService],
      exports: [CollectionTransformsService, FileProcessingService],
    };
  }
}
