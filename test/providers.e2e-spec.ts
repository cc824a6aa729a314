import { randomBytes } from 'node:crypto';
import { rotateKeys } from 'src/cli/rotate-keys';
import { RunningApp, startApp } from 'src/main';
import { SecretBox } from 'src/platform/crypto/secret-box';
import { CohereStub } from 'src/testing/provider-stubs/cohere.stub';
import { OpenAiStub } from 'src/testing/provider-stubs/openai.stub';
import { ApiClient } from './support/api-client';
import { TestEnvironment, waitFor } from './support/test-environment';

jest.setTimeout(180_000);

describe('remote embedding provider (OpenAI wire format)', () => {
  const environment = new TestEnvironment('providers');
  const stub = new OpenAiStub({ dimensions: 16, apiKey: 'sk-test-secret' });
  const cohere = new CohereStub({ dimensions: 12, apiKey: 'co-test-secret' });
  const masterKey = randomBytes(32).toString('hex');
  let running: RunningApp;
  let api: ApiClient;
  let stubUrl: string;
  let cohereUrl: string;

  beforeAll(async () => {
    stubUrl = `${await stub.start()}/v1`;
    cohereUrl = `${await cohere.start()}/v2`;
    await environment.createDatabase();
    running = await startApp(environment.config({ ROLE: 'all', ENCRYPTION_MASTER_KEY: masterKey }));
    api = new ApiClient(running.url.replace('[::1]', '127.0.0.1'));
  });

  afterAll(async () => {
    await running?.shutdown();
    await stub.stop();
    await cohere.stop();
    await environment.destroy();
  });

  it('seals the API key and never returns it', async () => {
    const embedder = await api.post(
      '/api/embedders',
      { name: 'stub openai', provider: 'openai', base_url: stubUrl, model: 'text-embedding-3-small', dimensions: 16, api_key: 'sk-test-secret' },
      201,
    );
    expect(embedder.has_api_key).toBe(true);
    expect(JSON.stringify(embedder)).not.toContain('sk-test-secret');
    expect(JSON.stringify(await api.get(`/api/embedders/${embedder.id}`))).not.toContain('sk-test-secret');

    const [row] = await environment.query<{ api_key_sealed: string }>('SELECT api_key_sealed FROM embedders WHERE id = $1', [embedder.id]);
    expect(row.api_key_sealed.startsWith('enc:v1:')).toBe(true);
    expect(row.api_key_sealed).not.toContain('sk-test-secret');

    const check = await api.post(`/api/embedders/${embedder.id}/test`, {}, 200);
    expect(check).toMatchObject({ success: true, dimensions: 16 });
    expect(stub.requests.at(-1)?.headers.authorization).toBe('Bearer sk-test-secret');
  });

  it('re-seals stored keys under a new master key', async () => {
    const before = await environment.query<{ id: string; api_key_sealed: string }>('SELECT id, api_key_sealed FROM embedders WHERE api_key_sealed IS NOT NULL');
    const newKey = randomBytes(32).toString('hex');
    const count = await rotateKeys(environment.env({ ENCRYPTION_MASTER_KEY: masterKey, NEW_ENCRYPTION_MASTER_KEY: newKey }));
    expect(count).toBe(before.length);
    const after = await environment.query<{ id: string; api_key_sealed: string }>('SELECT id, api_key_sealed FROM embedders WHERE api_key_sealed IS NOT NULL');
    for (const row of after) {
      expect(SecretBox.fromHex(newKey).open(row.api_key_sealed)).toBe('sk-test-secret');
      expect(() => SecretBox.fromHex(masterKey).open(row.api_key_sealed)).toThrow();
    }
    // Rotate back, so the running application's key opens them again.
    await rotateKeys(environment.env({ ENCRYPTION_MASTER_KEY: newKey, NEW_ENCRYPTION_MASTER_KEY: masterKey }));
  });

  it('rejects a remote provider without a model', async () => {
    const error = await api.post('/api/embedders', { name: 'no model', provider: 'openai', base_url: stubUrl, dimensions: 16 }, 400);
    expect(error.code).toBe('embedder_model_missing');
  });

  it('embeds a dataset through the provider and rides out a short outage', async () => {
    const embedder = await api.post(
      '/api/embedders',
      { name: 'pipeline openai', provider: 'openai', base_url: stubUrl, model: 'text-embedding-3-small', dimensions: 16, api_key: 'sk-test-secret' },
      201,
    );
    const collection = await api.post('/api/collections', { title: 'provider files' }, 201);
    const dataset = await api.post('/api/datasets', { title: 'provider chunks' }, 201);
    await api.post('/api/collection-transforms', { title: 'provider extraction', collection_id: collection.id, dataset_id: dataset.id }, 201);
    const transform = await api.post(
      '/api/dataset-transforms',
      { title: 'provider embedding', source_dataset_id: dataset.id, embedder_ids: [embedder.id] },
      201,
    );

    stub.failNext(3, 503, { message: 'overloaded', retryAfter: '0' });
    await api.upload(collection.id, [{ name: 'notes.md', content: '# Notes\n\nThe provider stub embeds this text.\n' }]);
    const [file] = await api.waitForSettled(collection.id, 120_000);
    expect(file.stage).toBe('embedded');

    const stats = await api.get(`/api/embedded-datasets/${transform.embedded_datasets[0].id}/stats`);
    expect(stats.points).toBe(stats.total_chunks);
    const result = await api.search(transform.embedded_datasets[0].id, 'provider stub', 3);
    expect(result.error).toBeUndefined();
    expect(result.matches[0].source_file).toBe('notes.md');

    // A request the provider rejects fails the batch for good; retrying it once the cause is gone embeds it.
    stub.failNext(1, 400, { message: 'input rejected by policy' });
    await api.upload(collection.id, [{ name: 'second.md', content: '# Second\n\nAnother note for the provider.\n' }]);
    const failedStats = await waitFor('a failed batch', async () => {
      const current = await api.get(`/api/dataset-transforms/${transform.id}/stats`);
      return current.batches_failed === 1 && current;
    });
    expect(failedStats.batches_failed).toBe(1);
    const [failedBatch] = await environment.query<{ error_message: string }>(
      `SELECT error_message FROM dataset_transform_batches WHERE dataset_transform_id = $1 AND status = 'failed'`,
      [transform.id],
    );
    expect(failedBatch.error_message).toContain('input rejected by policy');
    const filesWithFailure = await api.waitForSettled(collection.id, 30_000);
    const second = filesWithFailure.find((file) => file.name === 'second.md');
    expect(second.stage).toBe('failed');
    expect(second.stage_reason).toContain('embedding_failed');
    const listed = await api.get(`/api/dataset-transforms/${transform.id}/batches?status=failed`);
    expect(listed.total_count).toBe(1);
    expect(listed.items[0]).toMatchObject({ status: 'failed', attempts: 1, embedder_id: embedder.id });
    expect(listed.items[0].error_message).toContain('input rejected by policy');

    const retry = await api.post(`/api/dataset-transforms/${transform.id}/retry-failed`, {}, 201);
    expect(retry.retried_count).toBe(1);
    const files = await api.waitForSettled(collection.id, 60_000);
    expect(files.map((file) => file.stage)).toEqual(['embedded', 'embedded']);
    const finalStats = await api.get(`/api/dataset-transforms/${transform.id}/stats`);
    expect(finalStats).toMatchObject({ batches_failed: 0, status: 'completed' });
  });

  it('embeds a dataset through Cohere with input types', async () => {
    const embedder = await api.post(
      '/api/embedders',
      { name: 'stub cohere', provider: 'cohere', base_url: cohereUrl, model: 'embed-english-v3.0', dimensions: 12, api_key: 'co-test-secret' },
      201,
    );
    const collection = await api.post('/api/collections', { title: 'cohere files' }, 201);
    const dataset = await api.post('/api/datasets', { title: 'cohere chunks' }, 201);
    await api.post('/api/collection-transforms', { title: 'cohere extraction', collection_id: collection.id, dataset_id: dataset.id }, 201);
    const transform = await api.post(
      '/api/dataset-transforms',
      { title: 'cohere embedding', source_dataset_id: dataset.id, embedder_ids: [embedder.id] },
      201,
    );

    cohere.failNext(2, 429, { message: 'rate limited', retryAfter: '0' });
    await api.upload(collection.id, [
      { name: 'alpha.txt', content: 'Alpha notes about the Cohere stub.' },
      { name: 'beta.txt', content: 'Beta notes on another topic entirely.' },
    ]);
    const files = await api.waitForSettled(collection.id, 120_000);
    expect(files.map((file) => file.stage)).toEqual(['embedded', 'embedded']);

    const documentRequests = cohere.requests.filter((request) => request.body?.input_type === 'search_document');
    expect(documentRequests.length).toBeGreaterThan(0);
    expect(documentRequests.every((request) => request.headers.authorization === 'Bearer co-test-secret')).toBe(true);

    // The stub's vectors depend on the exact text, so the chunk's own text ranks its file first.
    const result = await api.search(transform.embedded_datasets[0].id, 'Beta notes on another topic entirely.', 2);
    expect(result.error).toBeUndefined();
    expect(result.matches[0].source_file).toBe('beta.txt');
    expect(cohere.requests.at(-1)?.body.input_type).toBe('search_query');
  });
});
