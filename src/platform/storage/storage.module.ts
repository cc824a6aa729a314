import { Global, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { register } from 'prom-client';
import { StorageConfig } from 'src/config/app-config';
import { BlobStore } from 'src/platform/storage/blob-store';
import { FilesystemBlobStore } from 'src/platform/storage/filesystem.blob-store';
import { S3BlobStore } from 'src/platform/storage/s3.blob-store';
import { createStorageMetrics } from 'src/platform/storage/storage.metrics';

/** Releases the S3 client's sockets when the process stops. */
@Injectable()
export class BlobStoreShutdown implements OnApplicationShutdown {
  constructor(private readonly blobs: BlobStore) {}

  onApplicationShutdown(): void {
    if (this.blobs instanceof S3BlobStore) this.blobs.close();
  }
}

/** Provides the BlobStore selected by STORAGE_BACKEND. */
@Global()
@Module({
  providers: [
    {
      provide: BlobStore,
      inject: [StorageConfig],
      useFactory: async (config: StorageConfig): Promise<BlobStore> => {
        const metrics = createStorageMetrics(register);
        if (config.backend === 's3' && config.s3) {
          const store = new S3BlobStore(config.s3, metrics);
          await store.ensureBucket();
          return store;
        }
        return new FilesystemBlobStore(config.dataDir, metrics);
      },
    },
    BlobStoreShutdown,
  ],
  exports: [BlobStore],
})
export class StorageModule {}
