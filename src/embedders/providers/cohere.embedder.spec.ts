import { AppError } from 'src/common/app-error';
import { CohereEmbedder, cohereEndpoint } from 'src/embedders/providers/cohere.embedder';
import { ProviderEmbedderOptions, ProviderRuntime } from 'src/embedders/providers/http-embedder';
import { CohereStub } from 'src/testing/provider-stubs/cohere.stub';

const silentLogger = { warn: () => undefined };

describe('CohereEmbedder', () => {
  let stub: CohereStub;
  let serverUrl: string;
  let sleeps: number[];

  const sleep = async (ms: number) => {
    sleeps.push(ms);
  };

  function makeEmbedder(options: Partial<ProviderEmbedderOptions> = {}, runtime: ProviderRuntime = {}): CohereEmbedder {
    return new CohereEmbedder(
      { baseUrl: serverUrl, model: 'embed-v4.0', dimensions: 8, apiKey: 'co-test', truncation: 'end', ...options },
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
    stub = new CohereStub({ apiKey: 'co-test' });
    serverUrl = await stub.start();
  });

  afterEach(async () => {
    await stub.stop();
  });

  it('sends documents as search_document', async () => {
    const vectors = await makeEmbedder().embed(['a', 'bb'], 'document');

    expect(vectors.map((vector) => vector[0])).toEqual([1, 2]);
    expect(stub.requests[0].path).toBe('/v2/embed');
    expect(stub.requests[0].headers.authorization).toBe('Bearer co-test');
    expect(stub.requests[0].body).toEqual({
      texts: ['a', 'bb'],
      model: 'embed-v4.0',
      input_type: 'search_document',
      embedding_types: ['float'],
      truncate: 'NONE',
    });
  });

  it('sends queries as search_query', async () => {
    await makeEmbedder().embed(['a'], 'query');

    expect(stub.requests[0].body.input_type).toBe('search_query');
  });

  it('accepts a base URL ending in /embed', async () => {
    await makeEmbedder({ baseUrl: `${serverUrl}/v2/embed/` }).embed(['a'], 'query');

    expect(stub.requests[0].path).toBe('/v2/embed');
  });

  it('builds the endpoint from the base URL', () => {
    expect(cohereEndpoint('https://api.cohere.com')).toBe('https://api.cohere.com/v2/embed');
    expect(cohereEndpoint('https://api.cohere.com/v2/')).toBe('https://api.cohere.com/v2/embed');
    expect(cohereEndpoint('https://proxy.example/cohere/embed')).toBe('https://proxy.example/cohere/embed');
  });

  it('caps batches at 96 texts', async () => {
    const texts = Array.from({ length: 100 }, (_, index) => 'x'.repeat(index + 1));

    const vectors = await makeEmbedder({ batchSize: 500 }).embed(texts, 'document');

    expect(stub.batchSizes().sort((a, b) => a - b)).toEqual([4, 96]);
    expect(vectors.map((vector) => vector[0])).toEqual(texts.map((text) => text.length));
  });

  it('lowers batches to batchSize', async () => {
    const texts = Array.from({ length: 25 }, () => 'text');

    await makeEmbedder({ batchSize: 10 }).embed(texts, 'document');

    expect(stub.batchSizes().sort((a, b) => a - b)).toEqual([5, 10, 10]);
  });

  it('truncates before the server would reject', async () => {
    await stub.stop();
    stub = new CohereStub({ maxInputChars: 60 });
    serverUrl = await stub.start();

    const vectors = await makeEmbedder({ maxInputTokens: 20 }).embed(['y'.repeat(100)], 'document');

    expect(vectors[0][0]).toBe(60);
    expect(stub.requests[0].body.texts).toEqual(['y'.repeat(60)]);
  });

  it('fails a 400 with the message', async () => {
    stub.failNext(1, 400, { message: 'invalid request: model embed-v9 not found' });

    const error = await rejection(makeEmbedder().embed(['a'], 'document'));

    expect(error.code).toBe('embedder_rejected');
    expect(error.message).toBe('Cohere returned 400: invalid request: model embed-v9 not found');
    expect(stub.requests).toHaveLength(1);
  });

  it('waits a Retry-After HTTP date', async () => {
    const now = Date.UTC(2025, 0, 1, 12, 0, 0);
    stub.failNext(1, 429, { retryAfter: new Date(now + 3000).toUTCString(), message: 'too many requests' });

    await makeEmbedder({}, { retry: { sleep }, clock: () => now, logger: silentLogger }).embed(['a'], 'query');

    expect(sleeps).toEqual([3000]);
    expect(stub.requests).toHaveLength(2);
  });

  it('retries a 503 then succeeds', async () => {
    stub.failNext(1, 503);

    await expect(makeEmbedder().embed(['a'], 'document')).resolves.toHaveLength(1);
    expect(sleeps).toEqual([250]);
  });

  it('detects wrong dimensions', async () => {
    stub.wrongDimensionsNext(1, 1024);

    const error = await rejection(makeEmbedder().embed(['a'], 'document'));

    expect(error.code).toBe('embedder_dimensions_mismatch');
    expect(error.details).toMatchObject({ expected: 8, actual: 1024 });
  });
});
