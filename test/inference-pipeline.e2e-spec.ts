import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig, loadConfig } from 'src/config/app-config';
import { RunningApp, startApp } from 'src/main';
import { writeBiEncoderFolder } from 'src/testing/onnx-models/model-folder';
import { ApiClient } from './support/api-client';
import { TestEnvironment, waitFor } from './support/test-environment';

jest.setTimeout(180_000);

const MODEL_ID = 'test-org/tiny-search';

describe('internal embedder through the inference role', () => {
  const environment = new TestEnvironment('inferencepipe');
  const modelPath = mkdtempSync(join(tmpdir(), 'se-inference-models-'));
  let inference: RunningApp | undefined;
  let platform: RunningApp;
  let api: ApiClient;
  let inferencePort: number;

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
});
