import { QdrantDouble, startQdrantDouble } from 'src/testing/qdrant-double/qdrant-double';

const UUID = '6f1c2a52-3b0e-4e57-9a51-1d2f6c1c8b10';

describe('Qdrant double', () => {
  let double: QdrantDouble;

  beforeAll(async () => {
    double = await startQdrantDouble();
    await call('PUT', '/collections/docs', { vectors: { size: 2, distance: 'Cosine' } });
    await call('PUT', '/collections/docs/points', {
      points: [
        { id: UUID, vector: [3, 4], payload: { tag: 'a' } },
        { id: 7, vector: [0, 1], payload: { tag: ['b', 'c'] } },
      ],
    });
  });

  afterAll(async () => {
    await double.close();
  });

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${double.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.status, json };
  }

  it('wraps results in the ok envelope', async () => {
    const { status, json } = await call('GET', '/collections/docs/exists');

    expect(status).toBe(200);
    expect(json.status).toBe('ok');
    expect(json.result).toEqual({ exists: true });
    expect(typeof json.time).toBe('number');
  });

  it('returns 404 for an unknown collection', async () => {
    const { status, json } = await call('POST', '/collections/missing/points/count', {});

    expect(status).toBe(404);
    expect(json.status.error).toContain('missing');
  });

  it('returns 409 for an existing collection', async () => {
    const { status, json } = await call('PUT', '/collections/docs', { vectors: { size: 2, distance: 'Cosine' } });

    expect(status).toBe(409);
    expect(json.status.error).toContain('already exists');
  });

  it.each([['12345'], ['not-a-uuid'], [-1], [1.5]])('rejects point id %p', async (id) => {
    const { status } = await call('PUT', '/collections/docs/points', { points: [{ id, vector: [1, 0] }] });

    expect(status).toBe(400);
  });

  it('rejects a vector of the wrong size', async () => {
    const { status, json } = await call('PUT', '/collections/docs/points', {
      points: [{ id: 8, vector: [1, 0] }, { id: 9, vector: [1, 0, 0] }],
    });

    expect(status).toBe(400);
    expect(json.status.error).toContain('expected dim: 2, got 3');
    expect((await call('POST', '/collections/docs/points/count', {})).json.result.count).toBe(2);
  });

  it.each([
    ['an unknown clause', { maybe: [] }],
    ['a condition without key', { must: [{ match: { value: 'a' } }] }],
    ['a null match value', { must: [{ key: 'tag', match: { value: null } }] }],
    ['a mixed any list', { must: [{ key: 'tag', match: { any: ['a', 1] } }] }],
    ['a key that is not a JSON path', { must: [{ key: 'say "hi"', match: { value: 'a' } }] }],
  ])('rejects a filter with %s', async (_label, filter) => {
    const { status } = await call('POST', '/collections/docs/points/count', { filter });

    expect(status).toBe(400);
  });

  it('returns cosine scores of normalised vectors', async () => {
    const { json } = await call('POST', '/collections/docs/points/query', { query: [6, 8], with_payload: true });

    expect(json.result.points.map((point: { id: unknown }) => point.id)).toEqual([UUID, 7]);
    expect(json.result.points[0].score).toBeCloseTo(1, 6);
    expect(json.result.points[1].score).toBeCloseTo(0.8, 6);
    expect(json.result.points[0].payload).toEqual({ tag: 'a' });
  });

  it('applies score_threshold, offset and filters', async () => {
    const threshold = await call('POST', '/collections/docs/points/query', { query: [6, 8], score_threshold: 0.9 });
    const offset = await call('POST', '/collections/docs/points/query', { query: [6, 8], offset: 1 });
    const should = await call('POST', '/collections/docs/points/count', {
      filter: { should: [{ key: 'tag', match: { value: 'c' } }] },
    });

    expect(threshold.json.result.points).toHaveLength(1);
    expect(offset.json.result.points.map((point: { id: unknown }) => point.id)).toEqual([7]);
    expect(offset.json.result.points[0].payload).toBeNull();
    expect(should.json.result.count).toBe(1);
  });

  it('scroll returns integer ids before UUIDs', async () => {
    const first = await call('POST', '/collections/docs/points/scroll', { limit: 1 });
    const second = await call('POST', '/collections/docs/points/scroll', { limit: 1, offset: first.json.result.next_page_offset });

    expect(first.json.result.points[0].id).toBe(7);
    expect(first.json.result.next_page_offset).toBe(UUID);
    expect(second.json.result.points[0].id).toBe(UUID);
    expect(second.json.result.next_page_offset).toBeNull();
  });

  it('checks the api key when configured', async () => {
    const secured = await startQdrantDouble({ apiKey: 'secret' });
    try {
      const missing = await fetch(`${secured.url}/collections`);
      const wrong = await fetch(`${secured.url}/collections`, { headers: { 'api-key': 'other' } });
      const right = await fetch(`${secured.url}/collections`, { headers: { 'api-key': 'secret' } });
      const bearer = await fetch(`${secured.url}/collections`, { headers: { authorization: 'Bearer secret' } });

      expect(missing.status).toBe(401);
      expect(wrong.status).toBe(401);
      expect(right.status).toBe(200);
      expect(bearer.status).toBe(200);
    } finally {
      await secured.close();
    }
  });
});
