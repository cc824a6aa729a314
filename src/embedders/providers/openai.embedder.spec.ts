import { AppError } from 'src/common/app-error';
import { OpenAiEmbedder, OpenAiEmbedderOptions } from 'src/embedders/providers/openai.embedder';
import { ProviderRuntime } from 'src/embedders/providers/http-embedder';
import { AdaptiveConcurrency } from 'src/embedders/resilience/adaptive-concurrency';
import { CircuitBreaker } from 'src/embedders/resilience/circuit-breaker';
import { OpenAiStub } from 'src/testing/provider-stubs/openai.stub';
import { stubVector } from 'src/testing/provider-stubs/provider-stub';

const silentLogger = { warn: () => undefined };

describe('OpenAiEmbedder', () => {
  let stub: OpenAiStub;
  let baseUrl: string;
  let sleeps: number[];

  const sleep = async (ms: number) => {
    sleeps.push(ms);
  };

  function makeEmbedder(options: Partial<OpenAiEmbedderOptions> = {}, runtime: ProviderRuntime = {}): OpenAiEmbedder {
    return new OpenAiEmbedder(
      { baseUrl, model: 'text-embedding-3-small', dimensions: 8, apiKey: 'sk-test', truncation: 'end', ...options },
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
    stub = new OpenAiStub({ apiKey: 'sk-test' });
    baseUrl = `${await stub.start()}/v1`;
  });

  afterEach(async () => {
    await stub.stop();
  });

  it('returns vectors in input order', async () => {
    const texts = ['a', 'bb', 'ccc'];

    const vectors = await makeEmbedder().embed(texts, 'document');

    expect(vectors.map((vector) => vector[0])).toEqual([1, 2, 3]);
    expect(vectors.every((vector) => vector.length === 8)).toBe(true);
    expect(stub.requests).toHaveLength(1);
    expect(stub.requests[0].body).toEqual({ input: texts, model: 'text-embedding-3-small', dimensions: 8 });
    expect(stub.requests[0].headers.authorization).toBe('Bearer sk-test');
  });

  it('omits dimensions when sendDimensions is false', async () => {
    await makeEmbedder({ sendDimensions: false }).embed(['a'], 'query');

    expect(stub.requests[0].body).toEqual({ input: ['a'], model: 'text-embedding-3-small' });
  });

  it('returns an empty list without a request', async () => {
    await expect(makeEmbedder().embed([], 'document')).resolves.toEqual([]);
    expect(stub.requests).toHaveLength(0);
  });

  it('batches by batchSize', async () => {
    const texts = ['a', 'bb', 'ccc', 'dddd', 'eeeee'];

    const vectors = await makeEmbedder({ batchSize: 2 }).embed(texts, 'document');

    expect(stub.batchSizes().sort()).toEqual([1, 2, 2]);
    expect(vectors.map((vector) => vector[0])).toEqual([1, 2, 3, 4, 5]);
  });

  it('batches by estimated tokens', async () => {
    // 360,000 bytes is an estimated 120,000 tokens, so two fit the 300,000-token cap and three do not.
    const texts = ['a', 'b', 'c', 'd', 'e'].map((letter) => letter.repeat(360_000));

    const vectors = await makeEmbedder().embed(texts, 'document');

    // Batches are sent concurrently, so they may arrive in any order.
    expect(stub.batchSizes().sort()).toEqual([1, 2, 2]);
    expect(vectors.map((vector) => vector[0])).toEqual([360_000, 360_000, 360_000, 360_000, 360_000]);
    expect(vectors.map((vector) => vector[1])).toEqual(texts.map((text) => stubVector(text, 8)[1]));
  });

  it('truncates at the end, keeping the start', async () => {
    await stub.stop();
    stub = new OpenAiStub({ maxInputChars: 30 });
    baseUrl = `${await stub.start()}/v1`;
    const text = 'x'.repeat(20) + 'y'.repeat(20);

    await makeEmbedder({ maxInputTokens: 10, truncation: 'end' }).embed(['short', text], 'document');

    expect(stub.requests[0].body.input).toEqual(['short', 'x'.repeat(20) + 'y'.repeat(10)]);
  });

  it('truncates at the start, keeping the end', async () => {
    const text = 'x'.repeat(20) + 'y'.repeat(20);

    await makeEmbedder({ maxInputTokens: 10, truncation: 'start' }).embed([text], 'document');

    expect(stub.requests[0].body.input).toEqual(['x'.repeat(10) + 'y'.repeat(20)]);
  });

  it('rejects a long input when truncation is none', async () => {
    const embedder = makeEmbedder({ maxInputTokens: 10, truncation: 'none' });

    const error = await rejection(embedder.embed(['short', 'z'.repeat(40)], 'document'));

    expect(error.kind).toBe('invalid');
    expect(error.code).toBe('input_too_long');
    expect(error.message).toContain('index 1');
    expect(error.details).toMatchObject({ index: 1, maxInputTokens: 10 });
    expect(stub.requests).toHaveLength(0);
  });

  it('rejects an empty text', async () => {
    const error = await rejection(makeEmbedder().embed(['a', ''], 'document'));

    expect(error.code).toBe('invalid_embedding_input');
    expect(error.message).toContain('index 1');
  });

  it('waits the Retry-After of a 429', async () => {
    stub.failNext(1, 429, { retryAfter: '2', message: 'Rate limit reached for requests' });

    const vectors = await makeEmbedder().embed(['a'], 'document');

    expect(vectors).toHaveLength(1);
    expect(sleeps).toEqual([2000]);
    expect(stub.requests).toHaveLength(2);
  });

  it('retries 5xx with backoff then succeeds', async () => {
    stub.failNext(2, 500);

    const vectors = await makeEmbedder().embed(['a'], 'document');

    expect(vectors).toHaveLength(1);
    // random() is 0.5, so the delays are half of 500 ms and of 1,000 ms.
    expect(sleeps).toEqual([250, 500]);
    expect(stub.requests).toHaveLength(3);
  });

  it('gives up after maxAttempts as unavailable', async () => {
    stub.failNext(5, 502);
    const embedder = makeEmbedder({}, { retry: { sleep, maxAttempts: 3 }, logger: silentLogger });

    const error = await rejection(embedder.embed(['a'], 'document'));

    expect(error.kind).toBe('unavailable');
    expect(error.code).toBe('embedder_unavailable');
    expect(stub.requests).toHaveLength(3);
  });

  it('fails a 400 at once with the provider message', async () => {
    stub.failNext(1, 400, { message: "This model does not support specifying dimensions." });

    const error = await rejection(makeEmbedder().embed(['a'], 'document'));

    expect(error.kind).toBe('invalid');
    expect(error.code).toBe('embedder_rejected');
    expect(error.message).toBe('OpenAI returned 400: This model does not support specifying dimensions.');
    expect(stub.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('fails a wrong API key at once', async () => {
    const error = await rejection(makeEmbedder({ apiKey: 'sk-wrong' }).embed(['a'], 'document'));

    expect(error.code).toBe('embedder_rejected');
    expect(error.message).toBe('OpenAI returned 401: invalid API key');
    expect(error.message).not.toContain('sk-wrong');
  });

  it('halves the batch after a timeout', async () => {
    stub.delayNext(1, 2000);

    const vectors = await makeEmbedder({ timeoutMs: 200 }).embed(['a', 'bb', 'ccc', 'dddd'], 'document');

    expect(stub.batchSizes()).toEqual([4, 2, 2]);
    expect(vectors.map((vector) => vector[0])).toEqual([1, 2, 3, 4]);
  });

  it('lowers concurrency on a 503 storm and recovers', async () => {
    const limits: number[] = [];
    const concurrency = new AdaptiveConcurrency({
      maxConcurrency: 4,
      successesPerIncrease: 2,
      onLimitChange: (limit) => limits.push(limit),
    });
    stub.failNext(3, 503);
    const texts = ['a', 'bb', 'ccc', 'dddd', 'eeeee', 'ffffff', 'ggggggg', 'hhhhhhhh'];

    const vectors = await makeEmbedder({ batchSize: 1 }, { retry: { sleep }, concurrency, logger: silentLogger }).embed(
      texts,
      'document',
    );

    expect(vectors.map((vector) => vector[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(limits).toEqual([2, 3, 4]);
    expect(concurrency.limit).toBe(4);
    expect(stub.maxInFlight).toBeLessThanOrEqual(4);
    expect(stub.requests).toHaveLength(11);
  });

  it('opens the circuit and probes when half-open', async () => {
    let now = 1_000_000;
    const circuitBreaker = new CircuitBreaker({ name: 'OpenAI test', failureThreshold: 3, openMs: 30_000, clock: () => now });
    const embedder = makeEmbedder({}, { retry: { sleep, maxAttempts: 2 }, circuitBreaker, logger: silentLogger });
    stub.failNext(3, 500);

    const first = await rejection(embedder.embed(['a'], 'document'));
    expect(first.code).toBe('embedder_unavailable');
    expect(stub.requests).toHaveLength(2);

    // The third failure opens the circuit, so the retry fails fast instead of sending.
    const second = await rejection(embedder.embed(['a'], 'document'));
    expect(second.code).toBe('embedder_circuit_open');
    expect(second.kind).toBe('unavailable');
    expect(stub.requests).toHaveLength(3);

    const third = await rejection(embedder.embed(['a'], 'document'));
    expect(third.code).toBe('embedder_circuit_open');
    expect(stub.requests).toHaveLength(3);

    now += 30_000;
    expect(circuitBreaker.state).toBe('half-open');
    await expect(embedder.embed(['a'], 'document')).resolves.toHaveLength(1);
    expect(circuitBreaker.state).toBe('closed');
    expect(stub.requests).toHaveLength(4);
  });

  it('detects wrong dimensions', async () => {
    stub.wrongDimensionsNext(1, 5);

    const error = await rejection(makeEmbedder().embed(['a'], 'document'));

    expect(error.code).toBe('embedder_dimensions_mismatch');
    expect(error.details).toMatchObject({ expected: 8, actual: 5, index: 0 });
    expect(stub.requests).toHaveLength(1);
  });

  it('reports an unreachable server as unavailable', async () => {
    await stub.stop();
    const embedder = makeEmbedder({}, { retry: { sleep, maxAttempts: 2 }, logger: silentLogger });

    const error = await rejection(embedder.embed(['a'], 'document'));

    expect(error.code).toBe('embedder_unreachable');
    expect(sleeps).toHaveLength(1);
  });

  it('rejects invalid options without echoing the key', () => {
    const build = (options: Partial<OpenAiEmbedderOptions>) => () => makeEmbedder(options);

    expect(build({ baseUrl: 'ftp://example.com' })).toThrow(/baseUrl/);
    expect(build({ dimensions: 0 })).toThrow(/dimensions/);
    expect(build({ batchSize: 1.5 })).toThrow(/batchSize/);
    expect(build({ truncation: 'middle' as never })).toThrow(/truncation/);
    expect(build({ apiKey: 42 as never })).toThrow(/\(value hidden\)/);
  });
});
