import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { AppError } from 'src/common/app-error';
import { BlobStore } from 'src/platform/storage/blob-store';
import { readBlobToBuffer } from 'src/platform/storage/blob-streams';

const MIB = 1024 * 1024;

/**
 * Behaviour every BlobStore adapter must show. A spec calls this inside its own setup,
 * and `makeStore` returns a store over an empty location (folder or bucket).
 */
export function runBlobStoreContract(name: string, makeStore: () => Promise<BlobStore>): void {
  describe(`${name} BlobStore contract`, () => {
    let store: BlobStore;

    beforeAll(async () => {
      store = await makeStore();
    });

    it('put returns size and sha256 of a buffer', async () => {
      const body = Buffer.from('hello blob store');

      const stored = await store.put('contract/basic/hello.txt', body, { contentType: 'text/plain' });

      expect(stored).toEqual({ key: 'contract/basic/hello.txt', size: body.length, sha256: sha256Hex(body) });
      expect(await store.getBuffer('contract/basic/hello.txt')).toEqual(body);
    });

    it('put streams a chunked Readable', async () => {
      const chunks = [Buffer.from('first '), Buffer.from('second '), Buffer.from('third')];
      const expected = Buffer.concat(chunks);

      const stored = await store.put('contract/basic/chunks.bin', Readable.from(chunks));

      expect(stored.size).toBe(expected.length);
      expect(stored.sha256).toBe(sha256Hex(expected));
      const read = await readBlobToBuffer(await store.get('contract/basic/chunks.bin'), 'contract/basic/chunks.bin');
      expect(read).toEqual(expected);
    });

    it('put stores an empty blob', async () => {
      const stored = await store.put('contract/basic/empty', Readable.from([]));

      expect(stored.size).toBe(0);
      expect(stored.sha256).toBe(sha256Hex(Buffer.alloc(0)));
      expect(await store.stat('contract/basic/empty')).toEqual({ size: 0 });
      expect(await store.getBuffer('contract/basic/empty')).toEqual(Buffer.alloc(0));
    });

    it('put replaces an existing blob', async () => {
      await store.put('contract/basic/replaced', Buffer.from('old content that is longer'));

      await store.put('contract/basic/replaced', Buffer.from('new'));

      expect((await store.getBuffer('contract/basic/replaced')).toString()).toBe('new');
      expect(await store.stat('contract/basic/replaced')).toEqual({ size: 3 });
    });

    it('keys with spaces and non-ASCII characters round-trip', async () => {
      const key = 'contract/names/Ünïcødé file (1) 東京.txt';

      await store.put(key, Buffer.from('named'));

      expect((await store.getBuffer(key)).toString()).toBe('named');
      expect(await store.deletePrefix('contract/names/')).toBe(1);
    });

    it('put uploads 12 MiB in parts', async () => {
      const body = randomBytes(12 * MIB);
      const key = 'contract/large/twelve-mib.bin';

      const stored = await store.put(key, Readable.from(splitIntoChunks(body, MIB)), { maxBytes: 13 * MIB });

      expect(stored.size).toBe(body.length);
      expect(stored.sha256).toBe(sha256Hex(body));
      expect(await store.stat(key)).toEqual({ size: body.length });
      const read = await readBlobToBuffer(await store.get(key), key);
      expect(sha256Hex(read)).toBe(stored.sha256);
    }, 60_000);

    it('put accepts a body of exactly maxBytes', async () => {
      const stored = await store.put('contract/limit/exact', Buffer.alloc(10, 1), { maxBytes: 10 });

      expect(stored.size).toBe(10);
    });

    it('put over maxBytes from a buffer stores nothing', async () => {
      const key = 'contract/limit/buffer-too-large';

      await expectAppError(store.put(key, Buffer.alloc(11), { maxBytes: 10 }), 'invalid', 'blob_too_large');

      expect(await store.stat(key)).toBeNull();
    });

    it('put over maxBytes from a 12 MiB stream stores nothing', async () => {
      const key = 'contract/limit-stream/too-large.bin';
      const body = randomBytes(12 * MIB);

      await expectAppError(
        store.put(key, Readable.from(splitIntoChunks(body, MIB)), { maxBytes: 9 * MIB }),
        'invalid',
        'blob_too_large',
      );

      expect(await store.stat(key)).toBeNull();
      expect(await store.deletePrefix('contract/limit-stream/')).toBe(0);
    }, 60_000);

    it('put over maxBytes keeps the older blob', async () => {
      const key = 'contract/limit/kept';
      await store.put(key, Buffer.from('original'));

      const oversized = Readable.from(splitIntoChunks(Buffer.alloc(64 * 1024, 7), 1024));
      await expectAppError(store.put(key, oversized, { maxBytes: 1000 }), 'invalid', 'blob_too_large');

      expect((await store.getBuffer(key)).toString()).toBe('original');
    });

    it('put passes on a failing body stream and stores nothing', async () => {
      const key = 'contract/failing/body';
      const failure = new Error('client disconnected');
      const body = new Readable({
        read() {
          this.push(Buffer.from('partial'));
          this.destroy(failure);
        },
      });

      await expect(store.put(key, body)).rejects.toBe(failure);

      expect(await store.stat(key)).toBeNull();
    });

    it('put rejects a negative maxBytes', async () => {
      await expectAppError(store.put('contract/limit/negative', Buffer.from('x'), { maxBytes: -1 }), 'invalid', 'invalid_max_bytes');
    });

    it('get of a missing key throws blob_not_found', async () => {
      await expectAppError(store.get('contract/missing/nothing'), 'not_found', 'blob_not_found');
    });

    it('getBuffer of a missing key throws blob_not_found', async () => {
      await expectAppError(store.getBuffer('contract/missing/nothing'), 'not_found', 'blob_not_found');
    });

    it('stat of a missing key returns null', async () => {
      expect(await store.stat('contract/missing/nothing')).toBeNull();
    });

    it('delete of a missing key succeeds', async () => {
      await expect(store.delete('contract/missing/nothing')).resolves.toBeUndefined();
    });

    it('a prefix of stored keys is not itself a blob', async () => {
      await store.put('contract/folder/inner/file', Buffer.from('x'));

      expect(await store.stat('contract/folder/inner')).toBeNull();
      await expectAppError(store.get('contract/folder/inner'), 'not_found', 'blob_not_found');
      await expect(store.delete('contract/folder/inner')).resolves.toBeUndefined();
      expect(await store.stat('contract/folder/inner/file')).toEqual({ size: 1 });
    });

    it('delete removes a blob', async () => {
      await store.put('contract/delete/one', Buffer.from('x'));

      await store.delete('contract/delete/one');

      expect(await store.stat('contract/delete/one')).toBeNull();
      await expectAppError(store.get('contract/delete/one'), 'not_found', 'blob_not_found');
    });

    it('getBuffer enforces maxBytes', async () => {
      await store.put('contract/read-limit/ten', Buffer.alloc(10, 2));

      await expectAppError(store.getBuffer('contract/read-limit/ten', 9), 'invalid', 'blob_too_large');
      expect((await store.getBuffer('contract/read-limit/ten', 10)).length).toBe(10);
    });

    it('deletePrefix deletes matching keys only', async () => {
      const keys = ['contract/prefix/a/1', 'contract/prefix/a/2', 'contract/prefix/a/deep/3', 'contract/prefix/ab/4', 'contract/prefix/b/5'];
      for (const key of keys) {
        await store.put(key, Buffer.from(key));
      }

      expect(await store.deletePrefix('contract/prefix/a/')).toBe(3);
      expect(await store.stat('contract/prefix/a/1')).toBeNull();
      expect(await store.stat('contract/prefix/a/deep/3')).toBeNull();
      expect(await store.stat('contract/prefix/ab/4')).toEqual({ size: keys[3].length });
      expect(await store.stat('contract/prefix/b/5')).toEqual({ size: keys[4].length });

      // A prefix without a trailing slash matches like a string prefix, as in S3.
      expect(await store.deletePrefix('contract/prefix/a')).toBe(1);
      expect(await store.stat('contract/prefix/ab/4')).toBeNull();
      expect(await store.deletePrefix('contract/prefix/')).toBe(1);
    });

    it('deletePrefix of an unknown prefix returns 0', async () => {
      expect(await store.deletePrefix('contract/never-written/')).toBe(0);
    });

    it('deletePrefix deletes more than one page of keys', async () => {
      const count = 1005;
      const keys = Array.from({ length: count }, (_, index) => `contract/many/${String(index).padStart(5, '0')}`);
      for (let start = 0; start < keys.length; start += 50) {
        await Promise.all(keys.slice(start, start + 50).map((key) => store.put(key, Buffer.from('m'))));
      }

      expect(await store.deletePrefix('contract/many/')).toBe(count);
      expect(await store.stat(keys[0])).toBeNull();
      expect(await store.stat(keys[count - 1])).toBeNull();
    }, 120_000);

    it('deletePrefix rejects an empty prefix', async () => {
      await expectAppError(store.deletePrefix(''), 'invalid', 'invalid_blob_prefix');
    });

    it.each([
      ['an empty key', ''],
      ['an absolute key', '/etc/passwd'],
      ['a ".." segment', 'contract/../escape'],
      ['a leading ".." segment', '../escape'],
      ['a "." segment', 'contract/./x'],
      ['an empty segment', 'contract//x'],
      ['a trailing slash', 'contract/x/'],
      ['a backslash', 'contract\\x'],
      ['a NUL character', 'contract/x\0y'],
      ['over 1024 bytes', `contract/${'é'.repeat(600)}`],
    ])('rejects %s', async (_label, key) => {
      await expectAppError(store.put(key, Buffer.from('x')), 'invalid', 'invalid_blob_key');
      await expectAppError(store.get(key), 'invalid', 'invalid_blob_key');
      await expectAppError(store.getBuffer(key), 'invalid', 'invalid_blob_key');
      await expectAppError(store.stat(key), 'invalid', 'invalid_blob_key');
      await expectAppError(store.delete(key), 'invalid', 'invalid_blob_key');
    });

    it('checkHealth succeeds', async () => {
      await expect(store.checkHealth()).resolves.toBeUndefined();
    });
  });
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function splitIntoChunks(data: Buffer, chunkSize: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    chunks.push(data.subarray(offset, offset + chunkSize));
  }
  return chunks;
}

/** Asserts that `promise` rejects with an AppError of the given kind and code. */
export async function expectAppError(promise: Promise<unknown>, kind: string, code: string): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect({ kind: appError.kind, code: appError.code }).toEqual({ kind, code });
  return appError;
}
