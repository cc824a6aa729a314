import { v4 as uuidv4 } from 'uuid';
import { AppError } from 'src/common/app-error';
import { PayloadFilter, VectorPoint, VectorStore } from 'src/platform/vectors/vector-store';

/**
 * Behaviour every VectorStore adapter must show. A spec calls this inside its own setup
 * (database, server double), and `makeStore` returns a ready store. Each case works in
 * collections with fresh random names, so the store need not be empty.
 */
export function runVectorStoreContract(name: string, makeStore: () => Promise<VectorStore>): void {
  describe(`${name} VectorStore contract`, () => {
    let store: VectorStore;

    beforeAll(async () => {
      store = await makeStore();
    });

    async function newCollection(dimensions: number): Promise<string> {
      const collection = `contract_${uuidv4().replace(/-/g, '')}`;
      await store.ensureCollection(collection, dimensions);
      return collection;
    }

    describe('collections', () => {
      it('ensureCollection creates a collection once', async () => {
        const collection = `contract_${uuidv4().replace(/-/g, '')}`;
        expect(await store.collectionExists(collection)).toBe(false);

        await store.ensureCollection(collection, 4);
        await store.ensureCollection(collection, 4);

        expect(await store.collectionExists(collection)).toBe(true);
      });

      it('ensureCollection with other dimensions conflicts', async () => {
        const collection = await newCollection(4);

        const error = await expectAppError(store.ensureCollection(collection, 5), 'conflict', 'vector_dimension_mismatch');
        expect(error.message).toContain(collection);
        expect(error.message).toContain('4');
        expect(error.message).toContain('5');
      });

      it.each([0, -1, 1.5, Number.NaN])('ensureCollection rejects %p dimensions', async (dimensions) => {
        await expectAppError(store.ensureCollection('contract_bad_dimensions', dimensions), 'invalid', 'invalid_vector_dimensions');
      });

      it.each(['', '.hidden', 'with space', 'slash/name', 'x'.repeat(256)])('rejects collection name %p', async (bad) => {
        await expectAppError(store.ensureCollection(bad, 4), 'invalid', 'invalid_vector_collection_name');
        await expectAppError(store.collectionExists(bad), 'invalid', 'invalid_vector_collection_name');
      });

      it('deleteCollection removes points and allows new dimensions', async () => {
        const collection = await newCollection(2);
        await store.upsert(collection, [point([1, 0])]);

        await store.deleteCollection(collection);

        expect(await store.collectionExists(collection)).toBe(false);
        await store.ensureCollection(collection, 3);
        expect(await store.count(collection)).toBe(0);
      });

      it('deleteCollection of a missing collection succeeds', async () => {
        await expect(store.deleteCollection(`contract_missing_${uuidv4().slice(0, 8)}`)).resolves.toBeUndefined();
      });

      it('unknown collection throws vector_collection_not_found', async () => {
        const missing = `contract_missing_${uuidv4().slice(0, 8)}`;

        await expectAppError(store.upsert(missing, [point([1, 0])]), 'not_found', 'vector_collection_not_found');
        await expectAppError(store.upsert(missing, []), 'not_found', 'vector_collection_not_found');
        await expectAppError(store.count(missing), 'not_found', 'vector_collection_not_found');
        await expectAppError(store.search(missing, [1, 0], { limit: 1 }), 'not_found', 'vector_collection_not_found');
        await expectAppError(store.deletePoints(missing, [uuidv4()]), 'not_found', 'vector_collection_not_found');
        await expectAppError(
          store.deleteByFilter(missing, { must: [{ key: 'a', match: { value: 1 } }] }),
          'not_found',
          'vector_collection_not_found',
        );
      });
    });

    describe('upsert', () => {
      it('upsert replaces vector and payload by id', async () => {
        const collection = await newCollection(2);
        const id = uuidv4();
        await store.upsert(collection, [{ id, vector: [1, 0], payload: { version: 1 } }]);

        await store.upsert(collection, [{ id, vector: [0, 1], payload: { version: 2 } }]);

        expect(await store.count(collection)).toBe(1);
        const [hit] = await store.search(collection, [0, 1], { limit: 1 });
        expect(hit.id).toBe(id);
        expect(hit.payload).toEqual({ version: 2 });
        expect(hit.score).toBeCloseTo(1, 6);
      });

      it('upsert keeps the last of repeated ids', async () => {
        const collection = await newCollection(2);
        const id = uuidv4();

        await store.upsert(collection, [
          { id, vector: [1, 0], payload: { order: 'first' } },
          { id, vector: [0, 1], payload: { order: 'last' } },
        ]);

        expect(await store.count(collection)).toBe(1);
        const [hit] = await store.search(collection, [0, 1], { limit: 1 });
        expect(hit.payload).toEqual({ order: 'last' });
      });

      it('upsert returns ids in lowercase', async () => {
        const collection = await newCollection(2);
        const id = uuidv4();

        await store.upsert(collection, [{ id: id.toUpperCase(), vector: [1, 1], payload: {} }]);

        const [hit] = await store.search(collection, [1, 1], { limit: 1 });
        expect(hit.id).toBe(id);
      });

      it('upsert rejects a wrong vector length and writes nothing', async () => {
        const collection = await newCollection(3);

        const error = await expectAppError(
          store.upsert(collection, [point([1, 0, 0]), point([1, 0])]),
          'invalid',
          'vector_length_mismatch',
        );

        expect(error.message).toContain('3');
        expect(error.message).toContain('2');
        expect(await store.count(collection)).toBe(0);
      });

      it.each(['not-a-uuid', '12345', '', 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz'])('upsert rejects point id %p', async (id) => {
        const collection = await newCollection(2);

        const error = await expectAppError(
          store.upsert(collection, [{ id, vector: [1, 0], payload: {} }]),
          'invalid',
          'invalid_vector_point_id',
        );

        expect(error.message).toContain(JSON.stringify(id));
      });

      it.each([Number.NaN, Number.POSITIVE_INFINITY])('upsert rejects %p in a vector', async (value) => {
        const collection = await newCollection(2);

        await expectAppError(store.upsert(collection, [point([1, value])]), 'invalid', 'invalid_vector');
      });

      it('upsert writes more than one batch', async () => {
        const collection = await newCollection(4);
        const random = seededRandom(7);
        const points = Array.from({ length: 2500 }, () => point(randomVector(random, 4)));

        await store.upsert(collection, points);

        expect(await store.count(collection)).toBe(2500);
      }, 60_000);

      it('deletePoints removes listed ids and ignores unknown ones', async () => {
        const collection = await newCollection(2);
        const remaining = point([1, 0]);
        const removed = point([0, 1]);
        await store.upsert(collection, [remaining, removed]);

        await store.deletePoints(collection, [removed.id, uuidv4()]);

        expect(await store.count(collection)).toBe(1);
        const hits = await store.search(collection, [0, 1], { limit: 10 });
        expect(hits.map((hit) => hit.id)).toEqual([remaining.id]);
      });

      it('deletePoints rejects a non-UUID id', async () => {
        const collection = await newCollection(2);

        await expectAppError(store.deletePoints(collection, ['nope']), 'invalid', 'invalid_vector_point_id');
      });
    });

    describe('filters', () => {
      let collection: string;
      const ids = { a: uuidv4(), b: uuidv4(), c: uuidv4(), d: uuidv4() };

      beforeAll(async () => {
        collection = await newCollection(2);
        await store.upsert(collection, [
          { id: ids.a, vector: [1, 0], payload: { doc: 'alpha', page: 1, draft: true, tags: ['red', 'blue'] } },
          { id: ids.b, vector: [1, 1], payload: { doc: 'alpha', page: 2, draft: false, tags: ['green'] } },
          { id: ids.c, vector: [0, 1], payload: { doc: 'beta', page: 1, draft: false, code: '1' } },
          { id: ids.d, vector: [-1, 0], payload: { doc: 'gamma', code: 1 } },
        ]);
      });

      const cases: Array<[string, PayloadFilter, Array<keyof typeof ids>]> = [
        ['match string value', { must: [{ key: 'doc', match: { value: 'alpha' } }] }, ['a', 'b']],
        ['match integer value', { must: [{ key: 'page', match: { value: 1 } }] }, ['a', 'c']],
        ['match boolean value', { must: [{ key: 'draft', match: { value: false } }] }, ['b', 'c']],
        ['match inside an array field', { must: [{ key: 'tags', match: { value: 'blue' } }] }, ['a']],
        ['string "1" is not number 1', { must: [{ key: 'code', match: { value: '1' } }] }, ['c']],
        ['number 1 is not string "1"', { must: [{ key: 'code', match: { value: 1 } }] }, ['d']],
        ['any of strings', { must: [{ key: 'doc', match: { any: ['beta', 'gamma'] } }] }, ['c', 'd']],
        ['any of integers', { must: [{ key: 'page', match: { any: [2, 3] } }] }, ['b']],
        ['any inside an array field', { must: [{ key: 'tags', match: { any: ['green', 'red'] } }] }, ['a', 'b']],
        ['empty any matches nothing', { must: [{ key: 'doc', match: { any: [] } }] }, []],
        ['must_not excludes and keeps missing keys', { must_not: [{ key: 'page', match: { value: 1 } }] }, ['b', 'd']],
        ['must_not with any', { must_not: [{ key: 'doc', match: { any: ['alpha', 'beta'] } }] }, ['d']],
        [
          'must and must_not together',
          { must: [{ key: 'doc', match: { value: 'alpha' } }], must_not: [{ key: 'draft', match: { value: true } }] },
          ['b'],
        ],
        [
          'several must conditions',
          { must: [{ key: 'doc', match: { value: 'alpha' } }, { key: 'page', match: { value: 2 } }] },
          ['b'],
        ],
        ['unknown key matches nothing', { must: [{ key: 'missing', match: { value: 'x' } }] }, []],
        ['empty filter matches all', {}, ['a', 'b', 'c', 'd']],
      ];

      it.each(cases)('count and search with %s', async (_label, filter, expected) => {
        const expectedIds = expected.map((letter) => ids[letter]).sort();

        expect(await store.count(collection, filter)).toBe(expected.length);
        const hits = await store.search(collection, [1, 0], { limit: 10, filter });
        expect(hits.map((hit) => hit.id).sort()).toEqual(expectedIds);
      });

      it('keys with quotes and SQL text are plain field names', async () => {
        const tricky = await newCollection(2);
        const id = uuidv4();
        const key = `it's; DROP TABLE x; --`;
        await store.upsert(tricky, [{ id, vector: [1, 0], payload: { [key]: "o'brien" } }]);

        expect(await store.count(tricky, { must: [{ key, match: { value: "o'brien" } }] })).toBe(1);
        expect(await store.count(tricky, { must: [{ key, match: { any: ["o'brien"] } }] })).toBe(1);
      });

      const invalidFilters: Array<[string, unknown]> = [
        ['a nested key path', { must: [{ key: 'meta.doc', match: { value: 'x' } }] }],
        ['a key with a double quote', { must: [{ key: 'say "hi"', match: { value: 'x' } }] }],
        ['an empty key', { must: [{ key: '', match: { value: 'x' } }] }],
        ['a fractional value', { must: [{ key: 'page', match: { value: 1.5 } }] }],
        ['a null value', { must: [{ key: 'page', match: { value: null } }] }],
        ['a mixed any list', { must: [{ key: 'page', match: { any: [1, 'one'] } }] }],
        ['an unknown match kind', { must: [{ key: 'page', match: { range: { gt: 1 } } }] }],
        ['an unknown clause', { should: [{ key: 'page', match: { value: 1 } }] }],
        ['a must that is not a list', { must: { key: 'page', match: { value: 1 } } }],
      ];

      it.each(invalidFilters)('rejects a filter with %s', async (_label, filter) => {
        await expectAppError(store.count(collection, filter as PayloadFilter), 'invalid', 'invalid_vector_filter');
        await expectAppError(
          store.search(collection, [1, 0], { limit: 1, filter: filter as PayloadFilter }),
          'invalid',
          'invalid_vector_filter',
        );
      });

      it('deleteByFilter returns the number deleted', async () => {
        const target = await newCollection(2);
        await store.upsert(target, [
          { id: uuidv4(), vector: [1, 0], payload: { doc: 'x' } },
          { id: uuidv4(), vector: [1, 0], payload: { doc: 'x' } },
          { id: uuidv4(), vector: [1, 0], payload: { doc: 'y' } },
        ]);

        expect(await store.deleteByFilter(target, { must: [{ key: 'doc', match: { value: 'x' } }] })).toBe(2);
        expect(await store.deleteByFilter(target, { must: [{ key: 'doc', match: { value: 'x' } }] })).toBe(0);
        expect(await store.count(target)).toBe(1);
      });

      it('deleteByFilter rejects a filter without conditions', async () => {
        await expectAppError(store.deleteByFilter(collection, {}), 'invalid', 'empty_vector_filter');
        await expectAppError(store.deleteByFilter(collection, { must: [], must_not: [] }), 'invalid', 'empty_vector_filter');
        expect(await store.count(collection)).toBe(4);
      });
    });

    describe('search', () => {
      const dimensions = 16;
      let collection: string;
      let points: VectorPoint[];

      beforeAll(async () => {
        collection = await newCollection(dimensions);
        const random = seededRandom(42);
        points = Array.from({ length: 200 }, (_, index) => ({
          id: uuidv4(),
          vector: randomVector(random, dimensions),
          payload: { index, parity: index % 2 === 0 ? 'even' : 'odd' },
        }));
        await store.upsert(collection, points);
      });

      it('orders by cosine similarity with matching scores', async () => {
        const query = randomVector(seededRandom(99), dimensions);
        const expected = rankByCosine(points, query).slice(0, 10);

        const hits = await store.search(collection, query, { limit: 10 });

        expect(hits.map((hit) => hit.id)).toEqual(expected.map((entry) => entry.id));
        hits.forEach((hit, rank) => expect(hit.score).toBeCloseTo(expected[rank].score, 5));
        expect(hits[0].payload).toEqual(points.find((candidate) => candidate.id === hits[0].id)?.payload);
      });

      it('is independent of vector magnitude', async () => {
        const query = randomVector(seededRandom(5), dimensions);

        const unit = await store.search(collection, query, { limit: 5 });
        const scaled = await store.search(collection, query.map((value) => value * 1000), { limit: 5 });

        expect(scaled.map((hit) => hit.id)).toEqual(unit.map((hit) => hit.id));
      });

      it('applies the filter before the limit', async () => {
        const query = randomVector(seededRandom(100), dimensions);
        const odd = points.filter((candidate) => candidate.payload.parity === 'odd');
        const expected = rankByCosine(odd, query).slice(0, 5);

        const hits = await store.search(collection, query, {
          limit: 5,
          filter: { must: [{ key: 'parity', match: { value: 'odd' } }] },
        });

        expect(hits.map((hit) => hit.id)).toEqual(expected.map((entry) => entry.id));
      });

      it('drops points below scoreThreshold', async () => {
        const query = randomVector(seededRandom(3), dimensions);
        const ranked = rankByCosine(points, query);
        const threshold = ranked[7].score - 1e-4;

        const hits = await store.search(collection, query, { limit: 100, scoreThreshold: threshold });

        expect(hits.map((hit) => hit.id)).toEqual(ranked.slice(0, 8).map((entry) => entry.id));
        hits.forEach((hit) => expect(hit.score).toBeGreaterThanOrEqual(threshold));
      });

      it('returns every point when limit exceeds the count', async () => {
        const hits = await store.search(collection, randomVector(seededRandom(8), dimensions), { limit: 500 });

        expect(hits).toHaveLength(points.length);
        for (let rank = 1; rank < hits.length; rank += 1) {
          expect(hits[rank - 1].score).toBeGreaterThanOrEqual(hits[rank].score);
        }
      });

      it('scores opposite vectors -1', async () => {
        const target = await newCollection(2);
        const opposite = point([-3, 0]);
        await store.upsert(target, [opposite]);

        const [hit] = await store.search(target, [2, 0], { limit: 1 });

        expect(hit.score).toBeCloseTo(-1, 6);
      });

      it('scores zero vectors 0', async () => {
        const target = await newCollection(3);
        const zero = point([0, 0, 0]);
        const unit = point([1, 0, 0]);
        await store.upsert(target, [zero, unit]);

        const hits = await store.search(target, [1, 0, 0], { limit: 2 });
        const zeroQueryHits = await store.search(target, [0, 0, 0], { limit: 2 });

        expect(hits.map((hit) => hit.id)).toEqual([unit.id, zero.id]);
        expect(hits[1].score).toBe(0);
        expect(zeroQueryHits.map((hit) => hit.score)).toEqual([0, 0]);
      });

      it('rejects a query vector of the wrong length', async () => {
        await expectAppError(store.search(collection, [1, 2, 3], { limit: 1 }), 'invalid', 'vector_length_mismatch');
      });

      it.each([0, -1, 2.5, 10_001])('rejects limit %p', async (limit) => {
        await expectAppError(
          store.search(collection, randomVector(seededRandom(1), dimensions), { limit }),
          'invalid',
          'invalid_search_limit',
        );
      });

      it('pages through more points than one page holds', async () => {
        const target = await newCollection(8);
        const random = seededRandom(2024);
        const many = Array.from({ length: 12_000 }, () => point(randomVector(random, 8)));
        await store.upsert(target, many);
        const query = randomVector(seededRandom(77), 8);
        const expected = rankByCosine(many, query).slice(0, 25);

        const hits = await store.search(target, query, { limit: 25 });

        expect(hits.map((hit) => hit.id)).toEqual(expected.map((entry) => entry.id));
      }, 120_000);
    });

    it('checkHealth succeeds', async () => {
      await expect(store.checkHealth()).resolves.toBeUndefined();
    });
  });
}

function point(vector: number[], payload: Record<string, unknown> = {}): VectorPoint {
  return { id: uuidv4(), vector, payload };
}

/** Mulberry32: a small seeded generator, so failures reproduce. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

function randomVector(random: () => number, dimensions: number): number[] {
  return Array.from({ length: dimensions }, () => random() * 2 - 1);
}

/** Cosine similarity in float64, computed without the adapter's code. */
function cosine(left: number[], right: number[]): number {
  let dot = 0;
  let leftSquares = 0;
  let rightSquares = 0;
  for (let index = 0; index < left.length; index += 1) {
    dot += left[index] * right[index];
    leftSquares += left[index] ** 2;
    rightSquares += right[index] ** 2;
  }
  return leftSquares === 0 || rightSquares === 0 ? 0 : dot / Math.sqrt(leftSquares * rightSquares);
}

function rankByCosine(points: VectorPoint[], query: number[]): Array<{ id: string; score: number }> {
  return points
    .map((candidate) => ({ id: candidate.id, score: cosine(candidate.vector, query) }))
    .sort((left, right) => right.score - left.score);
}

async function expectAppError(promise: Promise<unknown>, kind: string, code: string): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect({ kind: appError.kind, code: appError.code }).toEqual({ kind, code });
  return appError;
}
