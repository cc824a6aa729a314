import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CollectionFileEntity } from 'src/collections/collection-file.entity';
import { CollectionFilesService } from 'src/collections/collection-files.service';
import { CollectionEntity } from 'src/collections/collection.entity';
import { CollectionsController } from 'src/collections/collections.controller';
import { CollectionsService } from 'src/collections/collections.service';

@Module({})
export class CollectionsModule {
  static register(options: { http: boolean }): DynamicModule {
    return {
      module: CollectionsModule,
      global: true,
      imports: [TypeOrmModule.forFeature([CollectionEntity, CollectionFileEntity])],
      controllers: options.http ? [CollectionsController] : [],
      providers: [CollectionsService, CollectionFilesService],
      exports: [CollectionsService, CollectionFilesService],
    };
  }
}
