import { AddressInfo, createServer as createNetServer, Socket } from 'node:net';
import { v4 as uuidv4 } from 'uuid';
import { AppError } from 'src/common/app-error';
import { QdrantConfig } from 'src/config/app-config';
import { QDRANT_INDEXED_PAYLOAD_FIELDS, QdrantVectorStore } from 'src/platform/vectors/qdrant.vector-store';
import { runVectorStoreContract } from 'src/platform/vectors/vector-store.contract';
import { QdrantDouble, startQdrantDouble } from 'src/testing/qdrant-double/qdrant-double';

function storeConfig(url: string, overrides: Partial<QdrantConfig> = {}): QdrantConfig {
  return { url, timeoutSecs: 30, quantization: 'none', upsertBatchSize: 256, ...overrides };
}

function newName(): string {
  return `spec_${uuidv4().replace(/-/g, '')}`;
}

async function caught(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('QdrantVectorStore against the Qdrant double', () => {
  let double: QdrantDouble;

  beforeAll(async () => {
    double = await startQdrantDouble();
  });

  afterAll(async () => {
    await double.close();
  });

  runVectorStoreContract('qdrant (double)', async () => new QdrantVectorStore(storeConfig(double.url)));

  describe('collection creation', () => {
    it.each([
      ['none', undefined],
      ['scalar', { scalar: { type: 'int8' } }],
      ['product', { product: { compression: 'x16' } }],
    ] as const)('sends quantization %s', async (quantization, expected) => {
      const store = new QdrantVectorStore(storeConfig(double.url, { quantization }));
      const name = newName();

      await store.ensureCollection(name, 8);

      const create = double.requests.find((request) => request.method === 'PUT' && request.path === `/collections/${name}`);
      const body = create?.body as Record<string, unknown>;
      expect(body.vectors).toEqual({ size: 8, distance: 'Cosine' });
      expect(body.on_disk_payload).toBe(true);
      expect(body.quantization_config).toEqual(expected);
    });

    it('creates keyword payload indexes', async () => {
      const store = new QdrantVectorStore(storeConfig(double.url));
      const name = newName();

      await store.ensureCollection(name, 4);

      const indexRequests = double.requests.filter((request) => request.path === `/collections/${name}/index`);
      expect(indexRequests.map((request) => request.body)).toEqual(
        QDRANT_INDEXED_PAYLOAD_FIELDS.map((field) => ({ field_name: field, field_schema: 'keyword' })),
      );
      indexRequests.forEach((request) => expect(request.query.wait).toBe('true'));
    });

    it('ensureCollection adds missing indexes only', async () => {
      const store = new QdrantVectorStore(storeConfig(double.url));
      const name = newName();
      await fetch(`${double.url}/collections/${name}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ vectors: { size: 4, distance: 'Cosine' } }),
      });
      await fetch(`${double.url}/collections/${name}/index`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ field_name: 'item_id', field_schema: 'keyword' }),
      });
      const before = double.requests.length;

      await store.ensureCollection(name, 4);

      const created = double.requests
        .slice(before)
        .filter((request) => request.path === `/collections/${name}/index`)
        .map((request) => (request.body as { field_name: string }).field_name);
      expect(created).toEqual(QDRANT_INDEXED_PAYLOAD_FIELDS.filter((field) => field !== 'item_id'));
    });

    it('ensureCollection rejects a non-Cosine collection', async () => {
      const store = new QdrantVectorStore(storeConfig(double.url));
      const name = newName();
      await fetch(`${double.url}/collections/${name}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ vectors: { size: 4, distance: 'Dot' } }),
      });

      const error = await caught(store.ensureCollection(name, 4));

      expect(error.code).toBe('vector_collection_incompatible');
      expect(error.message).toContain(name);
    });
  });

  describe('writes and reads', () => {
    it('upsert sends batches with wait=true', async () => {
      const store = new QdrantVectorStore(storeConfig(double.url, { upsertBatchSize: 3 }));
      const name = newName();
      await store.ensureCollection(name, 2);
      const before = double.requests.length;

      await store.upsert(
        name,
        Array.from({ length: 7 }, (_, index) => ({ id: uuidv4(), vector: [1, index], payload: { index } })),
      );

      const upserts = double.requests.slice(before).filter((request) => request.path === `/collections/${name}/points`);
      expect(upserts.map((request) => (request.body as { points: unknown[] }).points.length)).toEqual([3, 3, 1]);
      upserts.forEach((request) => expect(request.query.wait).toBe('true'));
      expect(await store.count(name)).toBe(7);
    });

    it('scroll pages through all points', async () => {
      const store = new QdrantVectorStore(storeConfig(double.url));
      const name = newName();
      await store.ensureCollection(name, 2);
      const points = Array.from({ length: 25 }, (_, index) => ({ id: uuidv4(), vector: [3, 4], payload: { index } }));
      await store.upsert(name, points);

      const seen: string[] = [];
      let offset: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await store.scroll(name, { limit: 10, offset, withVectors: true });
        pages += 1;
        seen.push(...page.points.map((point) => point.id));
        page.points.forEach((point) => expect(point.vector?.[0]).toBeCloseTo(0.6, 6));
        if (page.nextOffset === null) {
          break;
        }
        offset = page.nextOffset;
      }

      expect(pages).toBe(3);
      expect(seen.sort()).toEqual(points.map((point) => point.id).sort());
    });

    it('scroll applies the filter and omits vectors', async () => {
      const store = new QdrantVectorStore(storeConfig(double.url));
      const name = newName();
      await store.ensureCollection(name, 2);
      await store.upsert(name, [
        { id: uuidv4(), vector: [1, 0], payload: { file_id: 'a' } },
        { id: uuidv4(), vector: [1, 0], payload: { file_id: 'b' } },
      ]);

      const page = await store.scroll(name, { filter: { must: [{ key: 'file_id', match: { value: 'b' } }] } });

      expect(page.points).toHaveLength(1);
      expect(page.points[0].payload).toEqual({ file_id: 'b' });
      expect(page.points[0].vector).toBeUndefined();
      expect(page.nextOffset).toBeNull();
    });

    it('scroll rejects an invalid limit', async () => {
      const store = new QdrantVectorStore(storeConfig(double.url));

      const error = await caught(store.scroll('anything', { limit: 0 }));

      expect(error.code).toBe('invalid_scroll_limit');
    });

    it('quotes filter keys that are not plain names', async () => {
      const store = new QdrantVectorStore(storeConfig(double.url));
      const name = newName();
      await store.ensureCollection(name, 2);
      await store.upsert(name, [{ id: uuidv4(), vector: [1, 0], payload: { "it's a key": 'x' } }]);
      const before = double.requests.length;

      expect(await store.count(name, { must: [{ key: "it's a key", match: { value: 'x' } }] })).toBe(1);

      const countRequest = double.requests.slice(before).find((request) => request.path.endsWith('/points/count'));
      expect(countRequest?.body).toEqual({ filter: { must: [{ key: `"it's a key"`, match: { value: 'x' } }] }, exact: true });
    });

    it('rejects filter keys with a double quote', async () => {
      const store = new QdrantVectorStore(storeConfig(double.url));
      const name = newName();
      await store.ensureCollection(name, 2);

      const error = await caught(store.count(name, { must: [{ key: 'say "hi"', match: { value: 'x' } }] }));

      expect(error.code).toBe('invalid_vector_filter');
    });
  });

  describe('connection', () => {
    it('sends the api-key header', async () => {
      const secured = await startQdrantDouble({ apiKey: 'test-key' });
      try {
        const store = new QdrantVectorStore(storeConfig(secured.url, { apiKey: 'test-key' }));
        const name = newName();

        await store.ensureCollection(name, 2);
        await store.checkHealth();

        expect(secured.requests.length).toBeGreaterThan(0);
        secured.requests.forEach((request) => expect(request.headers['api-key']).toBe('test-key'));
      } finally {
        await secured.close();
      }
    });

    it('wrong api key is unavailable', async () => {
      const secured = await startQdrantDouble({ apiKey: 'test-key' });
      try {
        const store = new QdrantVectorStore(storeConfig(secured.url, { apiKey: 'wrong-key' }));

        const healthError = await caught(store.checkHealth());
        const countError = await caught(store.count('some_collection'));

        expect(healthError.code).toBe('vector_store_unavailable');
        expect(countError.code).toBe('vector_store_unavailable');
        expect(countError.message).toContain('some_collection');
        expect(countError.message).not.toContain('wrong-key');
      } finally {
        await secured.close();
      }
    });

    it('closed port is unavailable', async () => {
      const stopped = await startQdrantDouble();
      await stopped.close();
      const store = new QdrantVectorStore(storeConfig(stopped.url));

      const healthError = await caught(store.checkHealth());
      const searchError = await caught(store.search('some_collection', [1, 0], { limit: 1 }));

      expect(healthError.kind).toBe('unavailable');
      expect(searchError.code).toBe('vector_store_unavailable');
      expect(searchError.message).toContain('some_collection');
    });

    it('timeout is unavailable', async () => {
      // A server that accepts connections but never responds.
      const sockets: Socket[] = [];
      const hanging = createNetServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
      const { port } = hanging.address() as AddressInfo;
      const store = new QdrantVectorStore(storeConfig(`http://127.0.0.1:${port}`, { timeoutSecs: 1 }));
      try {
        const error = await caught(store.count('slow_collection'));

        expect(error.code).toBe('vector_store_unavailable');
        expect(error.message).toContain('slow_collection');
      } finally {
        sockets.forEach((socket) => socket.destroy());
        await new Promise<void>((resolve) => hanging.close(() => resolve()));
      }
    });
  });
});

const realQdrantUrl = process.env.QDRANT_URL;
if (realQdrantUrl) {
  describe('QdrantVectorStore against real Qdrant', () => {
    runVectorStoreContract('qdrant (real)', async () =>
      new QdrantVectorStore(storeConfig(realQdrantUrl, { apiKey: process.env.QDRANT_API_KEY || undefined })),
    );
  });
} else {
  describe.skip('QdrantVectorStore against real Qdrant (skipped: QDRANT_URL is not set)', () => {
    it('needs QDRANT_URL', () => undefined);
  });
}
