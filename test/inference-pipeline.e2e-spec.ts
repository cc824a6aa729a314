import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig, loadConfig } from 'src/config/app-config';
import { RunningApp, startApp } from 'src/main';
import { writeBiEncoderFolder } from 'src/testing/onnx-models/model-folder';
import { QdrantDouble, startQdrantDouble } from 'src/testing/qdrant-double/qdrant-double';
import { ApiClient } from './support/api-client';
import { TestEnvironment, waitFor } from './support/test-environment';

jest.setTimeout(180_000);

const MODEL_ID = 'test-org/tiny-search';
const FILES = [
  { name: 'cat.txt', content: 'the cat sat on the mat' },
  { name: 'search.txt', content: 'search document query relevant' },
  { name: 'model.txt', content: 'vector model query' },
];
const QUERIES = ['cat on the mat', 'relevant search', 'the vector model'];

/** Indexes FILES through an `internal` embedder and returns the ranked files of each query. */
async function indexAndSearch(api: ApiClient, label: string): Promise<Array<Array<{ file: string; score: number }>>> {
  const embedder = await api.post('/api/embedders', { name: `${label} onnx`, provider: 'internal', model: MODEL_ID, dimensions: 16 }, 201);
  const collection = await api.post('/api/collections', { title: `${label} files` }, 201);
  const dataset = await api.post('/api/datasets', { title: `${label} chunks` }, 201);
  await api.post('/api/collection-transforms', { title: `${label} extraction`, collection_id: collection.id, dataset_id: dataset.id }, 201);
  const transform = await api.post(
    '/api/dataset-transforms',
    { title: `${label} embedding`, source_dataset_id: dataset.id, embedder_ids: [embedder.id] },
    201,
  );
  await api.upload(collection.id, FILES);
  const files = await api.waitForSettled(collection.id, 90_000);
  expect(files.map((file) => file.stage)).toEqual(FILES.map(() => 'embedded'));

  const rankings = [];
  for (const query of QUERIES) {
    const result = await api.search(transform.embedded_datasets[0].id, query, 3);
    expect(result.error).toBeUndefined();
    rankings.push(result.matches.map((match) => ({ file: match.source_file as string, score: match.score as number })));
  }
  return rankings;
}

describe('internal embedder through the inference role', () => {
  const environment = new TestEnvironment('inferencepipe');
  const modelPath = mkdtempSync(join(tmpdir(), 'se-inference-models-'));
  let inference: RunningApp | undefined;
  let platform: RunningApp;
  let api: ApiClient;
  let inferencePort: number;
  let qdrant: QdrantDouble | undefined;

  const inferenceConfig = (port: number): AppConfig =>
    loadConfig({
      ROLE: 'inference',
      HOSTNAME: '127.0.0.1',
      INFERENCE_PORT: String(port),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      INFERENCE_MODEL_PATH: modelPath,
      HF_HOME: join(modelPath, 'hf-home'),
      INFERENCE_PRELOAD_MODELS: MODEL_ID,
    });

  beforeAll(async () => {
    await writeBiEncoderFolder(join(modelPath, MODEL_ID), {
      pooling: 'mean',
      normalize: true,
      maxSeqLength: 64,
      vocabWords: ['the', 'cat', 'sat', 'on', 'mat', 'search', 'document', 'query', 'relevant', 'vector', 'model', 'outage'],
      hidden: 16,
      seed: 7,
    });
    inference = await startApp(inferenceConfig(0));
    inferencePort = Number(new URL(inference.url.replace('[::1]', '127.0.0.1')).port);

    await environment.createDatabase();
    platform = await startApp(
      environment.config({ ROLE: 'api,worker-collections,worker-datasets', EMBEDDING_INFERENCE_API_URL: `http://127.0.0.1:${inferencePort}` }),
    );
    api = new ApiClient(platform.url.replace('[::1]', '127.0.0.1'));
  });

  afterAll(async () => {
    await qdrant?.close();
    await platform?.shutdown();
    await inference?.shutdown();
    await environment.destroy();
    rmSync(modelPath, { recursive: true, force: true });
  });

  it('embeds a dataset and rides out an inference outage', async () => {
    const embedder = await api.post('/api/embedders', { name: 'local onnx', provider: 'internal', model: MODEL_ID, dimensions: 16 }, 201);
    const check = await api.post(`/api/embedders/${embedder.id}/test`, {}, 200);
    expect(check).toMatchObject({ success: true, dimensions: 16 });

    const collection = await api.post('/api/collections', { title: 'local model files' }, 201);
    const dataset = await api.post('/api/datasets', { title: 'local model chunks' }, 201);
    await api.post('/api/collection-transforms', { title: 'local extraction', collection_id: collection.id, dataset_id: dataset.id }, 201);
    const transform = await api.post(
      '/api/dataset-transforms',
      { title: 'local embedding', source_dataset_id: dataset.id, embedder_ids: [embedder.id] },
      201,
    );
    const embeddedDatasetId = transform.embedded_datasets[0].id;

    await api.upload(collection.id, [
      { name: 'cat.txt', content: 'the cat sat on the mat' },
      { name: 'search.txt', content: 'search document query relevant' },
    ]);
    const files = await api.waitForSettled(collection.id, 90_000);
    expect(files.map((file) => file.stage)).toEqual(['embedded', 'embedded']);

    const catSearch = await api.search(embeddedDatasetId, 'the cat sat on the mat', 2);
    expect(catSearch.error).toBeUndefined();
    expect(catSearch.matches[0].source_file).toBe('cat.txt');
    expect(catSearch.matches[0].score).toBeGreaterThan(0.99);
    const otherSearch = await api.search(embeddedDatasetId, 'search document query relevant', 2);
    expect(otherSearch.matches[0].source_file).toBe('search.txt');

    // The inference service goes away while a new file waits to be embedded.
    await inference!.shutdown();
    inference = undefined;
    await api.upload(collection.id, [{ name: 'outage.txt', content: 'vector model outage' }]);
    await waitFor('a chunk of the new file', async () => {
      const stats = await api.get(`/api/embedded-datasets/${embeddedDatasetId}/stats`);
      return stats.total_chunks === 3;
    });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const during = await api.get(`/api/embedded-datasets/${embeddedDatasetId}/stats`);
    expect(during.points).toBe(2);

    inference = await startApp(inferenceConfig(inferencePort));
    const settled = await api.waitForSettled(collection.id, 120_000);
    expect(settled.map((file) => file.stage)).toEqual(['embedded', 'embedded', 'embedded']);
    const after = await api.get(`/api/embedded-datasets/${embeddedDatasetId}/stats`);
    expect(after.points).toBe(3);
    const transformStats = await api.get(`/api/dataset-transforms/${transform.id}/stats`);
    expect(transformStats.batches_failed).toBe(0);
  });

  it('gives the same results from Postgres and Qdrant', async () => {
    const viaPostgres = await indexAndSearch(api, 'postgres');

    qdrant = await startQdrantDouble();
    const qdrantEnvironment = new TestEnvironment('inferenceqd');
    await qdrantEnvironment.createDatabase();
    const qdrantPlatform = await startApp(
      qdrantEnvironment.config({
        ROLE: 'api,worker-collections,worker-datasets',
        EMBEDDING_INFERENCE_API_URL: `http://127.0.0.1:${inferencePort}`,
        VECTOR_STORE: 'qdrant',
        QDRANT_URL: qdrant.url,
      }),
    );
    try {
      const viaQdrant = await indexAndSearch(new ApiClient(qdrantPlatform.url.replace('[::1]', '127.0.0.1')), 'qdrant');
      expect(qdrant.requests.some((request) => request.path.includes('/points/query'))).toBe(true);
      QUERIES.forEach((_, index) => {
        expect(viaQdrant[index].map((match) => match.file)).toEqual(viaPostgres[index].map((match) => match.file));
        viaQdrant[index].forEach((match, rank) => expect(match.score).toBeCloseTo(viaPostgres[index][rank].score, 4));
      });
    } finally {
      await qdrantPlatform.shutdown();
      await qdrantEnvironment.destroy();
    }
  });
});
