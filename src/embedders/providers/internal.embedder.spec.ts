import { AppError } from 'src/common/app-error';
import { ProviderEmbedderOptions, ProviderRuntime } from 'src/embedders/providers/http-embedder';
import { InternalEmbedder } from 'src/embedders/providers/internal.embedder';
import { InternalStub } from 'src/testing/provider-stubs/internal.stub';

const silentLogger = { warn: () => undefined };

/** Returns a `fetch` that responds to every request with `rawBody` and status 200. */
function fetchReturning(rawBody: string): typeof fetch {
  return async () => new Response(rawBody, { status: 200, headers: { 'content-type': 'application/json' } });
}

describe('InternalEmbedder', () => {
  let stub: InternalStub;
  let serverUrl: string;
  let sleeps: number[];

  const sleep = async (ms: number) => {
    sleeps.push(ms);
  };

  function makeEmbedder(options: Partial<ProviderEmbedderOptions> = {}, runtime: ProviderRuntime = {}): InternalEmbedder {
    return new InternalEmbedder(
      { baseUrl: serverUrl, model: 'bge-small-en-v1.5', dimensions: 4, truncation: 'none', ...options },
      { retry: { sleep, random: () => 0.5 }, logger: silentLogger, ...runtime },
    );
  }

  async function rejection(promise: Promise<unknown>): Promise<AppError> {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }

  beforeEach(async () => {
    sleeps = [];
    stub = new InternalStub({ dimensions: 4 });
    serverUrl = await stub.start();
  });

  afterEach(async () => {
    await stub.stop();
  });

  it('posts texts and model to /api/embed', async () => {
    const vectors = await makeEmbedder().embed(['one', 'three'], 'query');

    expect(vectors.map((vector) => vector[0])).toEqual([3, 5]);
    expect(vectors[0]).toHaveLength(4);
    expect(stub.requests[0].path).toBe('/api/embed');
    expect(stub.requests[0].body).toEqual({ texts: ['one', 'three'], model: 'bge-small-en-v1.5', input_type: 'query' });
    expect(stub.requests[0].headers.authorization).toBeUndefined();
  });

  it('batches 64 texts by default', async () => {
    const texts = Array.from({ length: 70 }, (_, index) => `text ${index}`);

    const vectors = await makeEmbedder().embed(texts, 'document');

    expect(stub.batchSizes().sort((a, b) => a - b)).toEqual([6, 64]);
    expect(vectors).toHaveLength(70);
  });

  it('retries a 500 then succeeds', async () => {
    stub.failNext(2, 500, { message: 'model is loading' });

    await expect(makeEmbedder().embed(['a'], 'document')).resolves.toHaveLength(1);
    expect(sleeps).toEqual([250, 500]);
  });

  it('detects a wrong vector count', async () => {
    const embedder = makeEmbedder({}, { fetch: fetchReturning('{"embeddings":[[1,2,3,4]]}'), logger: silentLogger });

    const error = await rejection(embedder.embed(['a', 'b'], 'document'));

    expect(error.kind).toBe('unavailable');
    expect(error.code).toBe('embedder_invalid_response');
    expect(error.message).toBe('Inference service returned 1 vectors for 2 inputs.');
  });

  it('detects a non-finite value', async () => {
    // JSON.parse reads 1e999 as Infinity.
    const embedder = makeEmbedder({}, { fetch: fetchReturning('{"embeddings":[[1,2,1e999,4]]}'), logger: silentLogger });

    const error = await rejection(embedder.embed(['a'], 'document'));

    expect(error.code).toBe('embedder_invalid_response');
    expect(error.details).toMatchObject({ index: 0, position: 2 });
  });

  it('detects a body that is not JSON', async () => {
    const embedder = makeEmbedder({}, { fetch: fetchReturning('<html>proxy error</html>'), logger: silentLogger });

    const error = await rejection(embedder.embed(['a'], 'document'));

    expect(error.code).toBe('embedder_invalid_response');
    expect(error.message).toContain('not JSON');
  });

  it('detects wrong dimensions', async () => {
    stub.wrongDimensionsNext(1, 3);

    const error = await rejection(makeEmbedder().embed(['a'], 'document'));

    expect(error.code).toBe('embedder_dimensions_mismatch');
  });
});
