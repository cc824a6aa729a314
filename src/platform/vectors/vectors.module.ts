import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PipelineConfig } from 'src/config/app-config';
import { PostgresVectorStore } from 'src/platform/vectors/postgres.vector-store';
import { QdrantVectorStore } from 'src/platform/vectors/qdrant.vector-store';
import { VectorStore } from 'src/platform/vectors/vector-store';

/** Provides the VectorStore selected by VECTOR_STORE. */
@Global()
@Module({
  providers: [
    {
      provide: VectorStore,
      inject: [PipelineConfig, DataSource],
      useFactory: (config: PipelineConfig, dataSource: DataSource): VectorStore => {
        switch (config.vectorStore) {
          case 'postgres':
            return new PostgresVectorStore(dataSource);
          case 'qdrant':
            return new QdrantVectorStore(config.qdrant);
        }
      },
    },
  ],
  exports: [VectorStore],
})
export class VectorsModule {}
