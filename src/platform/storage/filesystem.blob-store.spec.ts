import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Registry } from 'prom-client';
import { FilesystemBlobStore } from 'src/platform/storage/filesystem.blob-store';
import { expectAppError, runBlobStoreContract } from 'src/platform/storage/blob-store.contract';
import { createStorageMetrics } from 'src/platform/storage/storage.metrics';

describe(FilesystemBlobStore.name, () => {
  let rootDir: string;

  beforeAll(async () => {
    rootDir = await mkdtemp(join(tmpdir(), 'se-blob-store-'));
  });

  afterAll(async () => {
    await rm(rootDir, { recursive: true, force: true });
  });

  runBlobStoreContract('filesystem', async () => new FilesystemBlobStore(join(rootDir, 'contract')));

  describe('filesystem specifics', () => {
    let sut: FilesystemBlobStore;
    let storeDir: string;

    beforeEach(async () => {
      storeDir = await mkdtemp(join(rootDir, 'case-'));
      sut = new FilesystemBlobStore(storeDir);
    });

    it('stores a key as a file at the same path', async () => {
      await sut.put('a/b/c.txt', Buffer.from('abc'));

      expect(await readdir(join(storeDir, 'a', 'b'))).toEqual(['c.txt']);
    });

    it('leaves no temporary file after a rejected put', async () => {
      const oversized = Readable.from([Buffer.alloc(600), Buffer.alloc(600)]);

      await expectAppError(sut.put('limit/x.bin', oversized, { maxBytes: 1000 }), 'invalid', 'blob_too_large');

      expect(await readdir(join(storeDir, 'limit'))).toEqual([]);
    });

    it('deletePrefix skips and keeps writes in progress', async () => {
      await sut.put('docs/1/a', Buffer.from('a'));
      const tempName = '.b.0b7e4c3a-1f0e-4a51-9a58-8d8b5f0b7a11.partial';
      await writeFile(join(storeDir, 'docs', '1', tempName), 'half');

      expect(await sut.deletePrefix('docs/')).toBe(1);
      expect(await readdir(join(storeDir, 'docs', '1'))).toEqual([tempName]);
    });

    it('rejects keys reserved for writes in progress', async () => {
      await expectAppError(
        sut.put('docs/.b.0b7e4c3a-1f0e-4a51-9a58-8d8b5f0b7a11.partial', Buffer.from('x')),
        'invalid',
        'invalid_blob_key',
      );
    });

    it('removes folders left empty by delete and deletePrefix', async () => {
      await sut.put('one/two/three', Buffer.from('x'));
      await sut.put('four/five/six', Buffer.from('y'));

      await sut.delete('one/two/three');
      await sut.deletePrefix('four/');

      expect(await readdir(storeDir)).toEqual([]);
    });

    it('put of a key under an existing blob throws blob_key_conflict', async () => {
      await sut.put('file', Buffer.from('x'));

      await expectAppError(sut.put('file/child', Buffer.from('y')), 'conflict', 'blob_key_conflict');
    });

    it('put of a key that is a folder throws blob_key_conflict', async () => {
      await sut.put('folder/child', Buffer.from('x'));

      await expectAppError(sut.put('folder', Buffer.from('y')), 'conflict', 'blob_key_conflict');
      expect((await sut.getBuffer('folder/child')).toString()).toBe('x');
    });

    it('checkHealth creates a missing root folder', async () => {
      const store = new FilesystemBlobStore(join(storeDir, 'not', 'yet'));

      await expect(store.checkHealth()).resolves.toBeUndefined();
    });

    it('checkHealth throws blob_store_unavailable when the root is a file', async () => {
      await writeFile(join(storeDir, 'plain-file'), 'x');
      const store = new FilesystemBlobStore(join(storeDir, 'plain-file', 'root'));

      await expectAppError(store.checkHealth(), 'unavailable', 'blob_store_unavailable');
    });

    it('records operation counts and durations', async () => {
      const registry = new Registry();
      const store = new FilesystemBlobStore(storeDir, createStorageMetrics(registry));

      await store.put('metrics/a', Buffer.from('a'));
      await store.stat('metrics/a');
      await expectAppError(store.get('metrics/missing'), 'not_found', 'blob_not_found');

      const counter = await registry.getSingleMetric('storage_operation_total')!.get();
      const counts = Object.fromEntries(
        counter.values.map((sample) => [`${sample.labels.operation}:${sample.labels.status}`, sample.value]),
      );
      expect(counts).toEqual({ 'put:success': 1, 'stat:success': 1, 'get:not_found': 1 });
      const histogram = await registry.getSingleMetric('storage_operation_duration_seconds')!.get();
      const putCount = histogram.values.find(
        (sample) =>
          (sample as { metricName?: string }).metricName === 'storage_operation_duration_seconds_count' &&
          sample.labels.operation === 'put',
      );
      expect(putCount?.value).toBe(1);
    });

    it('shares metrics between stores on one registry', () => {
      const registry = new Registry();

      const first = createStorageMetrics(registry);
      const second = createStorageMetrics(registry);

      expect(second.operations).toBe(first.operations);
      expect(second.duration).toBe(first.duration);
    });
  });
});
