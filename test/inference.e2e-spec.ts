import { Tokenizer } from '@huggingface/tokenizers';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from 'src/config/app-config';
import { EmbeddingModel } from 'src/inference/loaded-models';
import { ModelRegistry } from 'src/inference/model-registry.service';
import { RunningApp, startApp } from 'src/main';
import { HubStub } from 'src/testing/hub-stub';
import { writeBiEncoderFolder, writeCrossEncoderFolder, writeHubCacheSnapshot } from 'src/testing/onnx-models/model-folder';
import { waitFor } from './support/test-environment';

jest.setTimeout(120_000);

const WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'search', 'document', 'query', 'relevant', 'unrelated', 'vector', 'model'];
const HIDDEN = 8;

type Weights = { tokenEmbeddings: Float32Array; typeEmbeddings: Float32Array };

/** Token ids and type ids from the model's tokenizer.json, read here without the product's code. */
function referenceEncoding(modelDir: string, text: string, pair?: string): { ids: number[]; types: number[] } {
  const tokenizer = new Tokenizer(
    JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8')),
    JSON.parse(readFileSync(join(modelDir, 'tokenizer_config.json'), 'utf8')),
  );
  const encoding = tokenizer.encode(text, { text_pair: pair ?? null, return_token_type_ids: true });
  return { ids: encoding.ids, types: encoding.token_type_ids };
}

/** Computes the tiny bi-encoder's hidden state of one token: its embedding plus its type embedding. */
function tokenVector(weights: Weights, id: number, type: number): number[] {
  return Array.from({ length: HIDDEN }, (_, i) => weights.tokenEmbeddings[id * HIDDEN + i] + weights.typeEmbeddings[type * HIDDEN + i]);
}

function meanVector(weights: Weights, ids: number[], types: number[]): number[] {
  const sum = new Array<number>(HIDDEN).fill(0);
  ids.forEach((id, position) => tokenVector(weights, id, types[position]).forEach((value, i) => (sum[i] += value)));
  return sum.map((value) => value / ids.length);
}

function unitLength(vector: number[]): number[] {
  const norm = Math.sqrt(vector.reduce((total, value) => total + value * value, 0));
  return vector.map((value) => value / norm);
}

function expectVectorsClose(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => expect(value).toBeCloseTo(expected[i], 5));
}

describe('inference role', () => {
  const root = mkdtempSync(join(tmpdir(), 'se-inference-'));
  const hfHome = join(root, 'hf-home');
  const modelPath = join(root, 'models');
  const clsSource = join(root, 'cls-source');
  const meanDir = join(modelPath, 'test-org', 'tiny-mean');
  const rerankerDir = join(hfHome, 'test-org', 'tiny-reranker');
  const remoteSource = join(root, 'remote-source');
  const hub = new HubStub();
  let cls: Weights;
  let mean: Weights;
  let reranker: Weights & { weights: Float32Array; bias: number };
  let running: RunningApp;
  let baseUrl: string;

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    cls = await writeBiEncoderFolder(clsSource, { pooling: 'cls', normalize: true, maxSeqLength: 32, vocabWords: WORDS, hidden: HIDDEN, seed: 1 });
    await writeHubCacheSnapshot(hfHome, 'test-org/tiny-cls', clsSource);
    mean = await writeBiEncoderFolder(meanDir, {
      pooling: 'mean',
      normalize: false,
      maxSeqLength: 8,
      prompts: { query: 'query: ' },
      vocabWords: WORDS,
      hidden: HIDDEN,
      seed: 2,
    });
    reranker = await writeCrossEncoderFolder(rerankerDir, { vocabWords: WORDS, hidden: HIDDEN, seed: 3 });
    await writeBiEncoderFolder(remoteSource, { pooling: 'max', normalize: true, maxSeqLength: 32, vocabWords: WORDS, hidden: HIDDEN, seed: 4 });
    hub.addRepo('remote-org/tiny-remote', remoteSource);
    const hubUrl = await hub.start();

    // No DATABASE_URL, NATS or storage settings: the inference role alone needs none of them.
    running = await startApp(
      loadConfig({
        ROLE: 'inference',
        HOSTNAME: '127.0.0.1',
        INFERENCE_PORT: '0',
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
        HF_HOME: hfHome,
        HF_ENDPOINT: hubUrl,
        INFERENCE_MODEL_PATH: modelPath,
        INFERENCE_PRELOAD_MODELS: 'test-org/tiny-cls,test-org/tiny-reranker',
        INFERENCE_ALLOWED_MODELS: 'test-org/tiny-cls,test-org/tiny-mean,test-org/tiny-reranker,remote-org/tiny-remote,test-org/absent',
        INFERENCE_CUDA_ENABLED: 'true',
        INFERENCE_MAX_BATCH_SIZE: '16',
        INFERENCE_BATCH_SIZE: '4',
        INFERENCE_MAX_QUEUE_DEPTH: '1',
      }),
    );
    baseUrl = running.url.replace('[::1]', '127.0.0.1');
  });

  afterAll(async () => {
    await running?.shutdown();
    await hub.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('becomes ready once preloaded models load', async () => {
    expect((await fetch(`${baseUrl}/health/live`)).status).toBe(200);
    const report = await waitFor('readiness', async () => {
      const response = await fetch(`${baseUrl}/health/ready`);
      return response.status === 200 && ((await response.json()) as any);
    });
    expect(Object.keys(report.components)).toEqual(['models']);

    const { models } = (await (await fetch(`${baseUrl}/api/models`)).json()) as any;
    const byId = Object.fromEntries(models.map((model: any) => [model.id, model]));
    expect(byId['test-org/tiny-cls']).toMatchObject({ status: 'loaded', kind: 'embedding', pooling: 'cls', normalize: true, dimensions: HIDDEN });
    expect(byId['test-org/tiny-reranker']).toMatchObject({ status: 'loaded', kind: 'reranker' });
    expect(byId['test-org/tiny-mean']).toMatchObject({ status: 'not_loaded' });
    // INFERENCE_CUDA_ENABLED is true, and this machine has no CUDA provider: the models run on the CPU.
    expect(byId['test-org/tiny-cls'].device).toBe('cpu');
  });

  it('pools the CLS token and normalises', async () => {
    const response = await post('/api/embed', { model: 'test-org/tiny-cls', texts: ['the cat sat', 'vector model'] });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ model: 'test-org/tiny-cls', count: 2, dimensions: HIDDEN });

    const { ids, types } = referenceEncoding(clsSource, 'the cat sat');
    expectVectorsClose(response.body.embeddings[0], unitLength(tokenVector(cls, ids[0], types[0])));
  });

  it('averages tokens without normalising', async () => {
    const response = await post('/api/embed', { model: 'test-org/tiny-mean', text: 'the cat sat on the mat' });
    expect(response.status).toBe(200);
    const { ids, types } = referenceEncoding(meanDir, 'the cat sat on the mat');
    expectVectorsClose(response.body.embeddings[0], meanVector(mean, ids, types));
    expect(response.body.usage).toEqual({ tokens: ids.length, truncated: 0 });
  });

  it("puts the model's query prompt in front", async () => {
    const asQuery = await post('/api/embed', { model: 'test-org/tiny-mean', texts: ['cat'], input_type: 'query' });
    const { ids, types } = referenceEncoding(meanDir, 'query: cat');
    expectVectorsClose(asQuery.body.embeddings[0], meanVector(mean, ids, types));

    const asDocument = await post('/api/embed', { model: 'test-org/tiny-mean', texts: ['cat'], input_type: 'document' });
    const plain = referenceEncoding(meanDir, 'cat');
    expectVectorsClose(asDocument.body.embeddings[0], meanVector(mean, plain.ids, plain.types));
  });

  it('truncates to max_seq_length', async () => {
    const text = 'the cat sat on the mat search document query relevant vector model';
    const response = await post('/api/embed', { model: 'test-org/tiny-mean', texts: [text] });
    expect(response.body.usage).toEqual({ tokens: 8, truncated: 1 });

    const { ids, types } = referenceEncoding(meanDir, text);
    const keptIds = [...ids.slice(0, 7), ids[ids.length - 1]];
    expectVectorsClose(response.body.embeddings[0], meanVector(mean, keptIds, types.slice(0, 8)));
  });

  it('keeps input order across batches', async () => {
    const texts = Array.from({ length: 14 }, (_, i) => WORDS.slice(0, (i * 5) % WORDS.length + 1).join(' '));
    const batch = await post('/api/embed', { model: 'test-org/tiny-mean', texts });
    expect(batch.status).toBe(200);
    for (const [index, text] of texts.entries()) {
      const single = await post('/api/embed', { model: 'test-org/tiny-mean', texts: [text] });
      expectVectorsClose(batch.body.embeddings[index], single.body.embeddings[0]);
    }
  });

  it('rejects a request over INFERENCE_MAX_BATCH_SIZE', async () => {
    const response = await post('/api/embed', { model: 'test-org/tiny-mean', texts: new Array(17).fill('cat') });
    expect(response.status).toBe(413);
    expect(response.body.code).toBe('inference_batch_too_large');
    expect(response.body.message).toContain('at most 16');
  });

  it('answers 429 with Retry-After when the queue is full', async () => {
    const registry = running.app.get(ModelRegistry);
    const { model } = await registry.embeddingModel('test-org/tiny-cls');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const originalRun = model.run.bind(model);
    const spy = jest.spyOn(model as EmbeddingModel, 'run').mockImplementation(async (inputs) => {
      await gate;
      return originalRun(inputs);
    });
    try {
      const first = post('/api/embed', { model: 'test-org/tiny-cls', texts: ['cat'] });
      await waitFor('the first request to reach the model', async () => spy.mock.calls.length > 0);

      const second = await post('/api/embed', { model: 'test-org/tiny-cls', texts: ['mat'] });
      expect(second.status).toBe(429);
      expect(second.headers.get('retry-after')).toBe('1');
      expect(second.body.code).toBe('inference_queue_full');

      release();
      expect((await first).status).toBe(200);
    } finally {
      spy.mockRestore();
    }
  });

  it('serves OpenAI-compatible embeddings in float and base64', async () => {
    const asFloat = await post('/v1/embeddings', { model: 'test-org/tiny-mean', input: ['the cat', 'the mat'] });
    expect(asFloat.status).toBe(200);
    expect(asFloat.body).toMatchObject({ object: 'list', model: 'test-org/tiny-mean', data: [{ object: 'embedding', index: 0 }, { index: 1 }] });
    expect(asFloat.body.usage.prompt_tokens).toBeGreaterThan(0);

    const asBase64 = await post('/v1/embeddings', { model: 'test-org/tiny-mean', input: 'the mat', encoding_format: 'base64' });
    const bytes = Buffer.from(asBase64.body.data[0].embedding, 'base64');
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
    expectVectorsClose(decoded, asFloat.body.data[1].embedding);
  });

  it('returns OpenAI-shaped errors on /v1', async () => {
    const notAllowed = await post('/v1/embeddings', { model: 'other-org/model', input: 'cat' });
    expect(notAllowed.status).toBe(400);
    expect(notAllowed.body.error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_allowed' });

    const tokenIds = await post('/v1/embeddings', { model: 'test-org/tiny-mean', input: [[1, 2, 3]] });
    expect(tokenIds.status).toBe(400);
    expect(tokenIds.body.error.message).toContain('token id arrays are not supported');

    const wrongSize = await post('/v1/embeddings', { model: 'test-org/tiny-mean', input: 'cat', dimensions: 4 });
    expect(wrongSize.status).toBe(400);
    expect(wrongSize.body.error.code).toBe('dimensions_unsupported');
  });

  it('reranks documents with the cross-encoder', async () => {
    const query = 'cat on the mat';
    const documents = ['search document', { text: 'the cat sat on the mat', id: 'doc-2' }, 'unrelated vector model'];
    const response = await post('/api/rerank', { model: 'test-org/tiny-reranker', query, documents, return_documents: true });
    expect(response.status).toBe(200);

    const expected = documents.map((document, index) => {
      const text = typeof document === 'string' ? document : document.text;
      const { ids, types } = referenceEncoding(rerankerDir, query, text);
      const pooled = meanVector(reranker, ids, types);
      const logit = pooled.reduce((sum, value, i) => sum + value * reranker.weights[i], reranker.bias);
      return { index, score: 1 / (1 + Math.exp(-logit)), text };
    });
    expected.sort((a, b) => b.score - a.score);

    expect(response.body.results.map((result: any) => result.index)).toEqual(expected.map((result) => result.index));
    response.body.results.forEach((result: any, position: number) => {
      expect(result.score).toBeCloseTo(expected[position].score, 5);
      expect(result.text).toBe(expected[position].text);
    });
    expect(response.body.results.find((result: any) => result.index === 1).id).toBe('doc-2');

    const top = await post('/api/rerank', { model: 'test-org/tiny-reranker', query, documents, top_k: 1 });
    expect(top.body.results).toHaveLength(1);
    expect(top.body.results[0].index).toBe(expected[0].index);
    expect(top.body.results[0].text).toBeUndefined();
  });

  it('rejects a model used for the wrong task', async () => {
    const embedWithReranker = await post('/api/embed', { model: 'test-org/tiny-reranker', texts: ['cat'] });
    expect(embedWithReranker.status).toBe(400);
    expect(embedWithReranker.body.code).toBe('model_kind_mismatch');

    const rerankWithEmbedder = await post('/api/rerank', { model: 'test-org/tiny-mean', query: 'cat', documents: ['mat'] });
    expect(rerankWithEmbedder.body.code).toBe('model_kind_mismatch');

    const badDocument = await post('/api/rerank', { model: 'test-org/tiny-reranker', query: 'cat', documents: ['mat', { body: 'x' }] });
    expect(badDocument.status).toBe(400);
    expect(badDocument.body.message).toContain('documents[1]');
  });

  it('rejects ambiguous and malformed bodies', async () => {
    const both = await post('/api/embed', { model: 'test-org/tiny-mean', text: 'cat', texts: ['mat'] });
    expect(both.status).toBe(400);
    expect(both.body.code).toBe('embed_input_invalid');

    const wrongType = await post('/api/embed', { model: 'test-org/tiny-mean', text: 'cat', texts: 5 });
    expect(wrongType.status).toBe(400);

    const nullText = await post('/api/embed', { model: 'test-org/tiny-mean', text: null });
    expect(nullText.status).toBe(400);

    let deep: unknown = 'leaf';
    for (let level = 0; level < 1000; level++) deep = [deep];
    const tooDeep = await post('/api/embed', { model: 'test-org/tiny-mean', texts: deep });
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.code).toBe('body_too_deep');

    const emptyInput = await post('/v1/embeddings', { model: 'test-org/tiny-mean', input: '' });
    expect(emptyInput.status).toBe(400);
    expect(emptyInput.body.error.code).toBe('input_invalid');
  });

  it('returns every document when top_k is null', async () => {
    const response = await post('/api/rerank', { model: 'test-org/tiny-reranker', query: 'cat', documents: ['mat', 'cat', 'model'], top_k: null });
    expect(response.status).toBe(200);
    expect(response.body.results).toHaveLength(3);
  });

  it('rejects models outside the allow-list and unsafe ids', async () => {
    const notAllowed = await post('/api/embed', { model: 'other-org/model', texts: ['cat'] });
    expect(notAllowed.status).toBe(400);
    expect(notAllowed.body.code).toBe('model_not_allowed');

    const traversal = await post('/api/embed', { model: '../hf-home', texts: ['cat'] });
    expect(traversal.status).toBe(400);
    expect(traversal.body.message).toContain('Hugging Face model id');
  });

  it('reports an allowed model that exists nowhere as not found', async () => {
    const response = await post('/api/embed', { model: 'test-org/absent', texts: ['cat'] });
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('model_not_found');
  });

  it('downloads an allowed model from HF_ENDPOINT into the hub cache', async () => {
    const response = await post('/api/embed', { model: 'remote-org/tiny-remote', texts: ['the cat'] });
    expect(response.status).toBe(200);
    expect(response.body.dimensions).toBe(HIDDEN);

    const repoDir = join(hfHome, 'hub', 'models--remote-org--tiny-remote');
    const commit = readFileSync(join(repoDir, 'refs', 'main'), 'utf8');
    expect(existsSync(join(repoDir, 'snapshots', commit, 'onnx', 'model.onnx'))).toBe(true);
    expect(existsSync(join(repoDir, 'snapshots', commit, '1_Pooling', 'config.json'))).toBe(true);
    expect(hub.requests.some((request) => request.path.endsWith('/resolve/' + commit + '/onnx/model.onnx'))).toBe(true);

    // Another process that may not download finds the model in the cache.
    const requestsBefore = hub.requests.length;
    const offline = new ModelRegistry(
      loadConfig({ ROLE: 'inference', HF_HOME: hfHome, HF_ENDPOINT: 'http://127.0.0.1:9', HF_HUB_OFFLINE: '1', INFERENCE_ALLOWED_MODELS: '*' }).inference,
    );
    try {
      const { model } = await offline.embeddingModel('remote-org/tiny-remote');
      const [vector] = await model.run([model.encode('the cat', undefined).input]);
      expectVectorsClose(Array.from(vector), response.body.embeddings[0]);
      expect(hub.requests.length).toBe(requestsBefore);
    } finally {
      await offline.onApplicationShutdown();
    }
  });

  it('exports inference metrics', async () => {
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(metrics).toContain('inference_embed_requests_total{model="test-org/tiny-mean",status="success"}');
    expect(metrics).toContain('inference_embed_items_total{model="test-org/tiny-mean"}');
    expect(metrics).toContain('inference_embed_duration_seconds_bucket');
    expect(metrics).toContain('inference_embed_per_item_duration_seconds_bucket');
    expect(metrics).toMatch(/inference_rerank_requests_total\{model="test-org\/tiny-reranker",status="success"\} [1-9]/);
    expect(metrics).toContain('inference_rerank_documents_total{model="test-org/tiny-reranker"}');
    expect(metrics).toContain('inference_embed_truncated_total{model="test-org/tiny-mean"} 1');
    expect(metrics).toContain('inference_model_loaded{model="test-org/tiny-cls",kind="embedding",device="cpu"} 1');
    // Ids the service does not serve share one label, so clients cannot add series without limit.
    expect(metrics).toContain('inference_embed_requests_total{model="other",status="invalid"}');
    expect(metrics).not.toContain('model="other-org/model"');
  });
});
