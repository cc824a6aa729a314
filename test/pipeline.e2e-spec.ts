import { randomUUID } from 'node:crypto';
import { JetStreamService } from 'src/platform/messaging/jetstream.service';
import { JobSubject } from 'src/platform/messaging/streams';
import { RunningApp } from 'src/main';
import { ApiClient, corpusFile } from './support/api-client';
import { startPipelineApp } from './support/pipeline-app';
import { CORPUS_DIR, TestEnvironment, waitFor } from './support/test-environment';

jest.setTimeout(240_000);

const DOCUMENTS = [
  { file: 'pdf-two-column-arxiv-dpr-paper.pdf', query: 'dense passage retrieval for open-domain question answering with a dual-encoder' },
  { file: 'docx-nested-tables-bookmarks-header-footer.docx', query: 'sample Microsoft Word document with a nested table' },
  { file: 'html-news-article-scripts-styles-nav-boilerplate.html', query: 'Lukashenko ordered a snap readiness check of the Belarusian military' },
  { file: 'md-pdfplumber-readme-tables-code.md', query: 'plumb a PDF for detailed information about each text character, rectangle and line' },
];

describe('document pipeline (ROLE=all)', () => {
  const environment = new TestEnvironment('pipeline');
  let running: RunningApp;
  let api: ApiClient;
  let pipeline: Awaited<ReturnType<ApiClient['createPipeline']>>;

  beforeAll(async () => {
    ({ running, api, pipeline } = await startPipelineApp(environment, 'corpus'));
  });

  afterAll(async () => {
    await running?.shutdown();
    await environment.destroy();
  });

  async function pointCount(filter?: Record<string, string>): Promise<number> {
    const rows = await environment.query<{ count: string }>(
      `SELECT count(*) AS count FROM vector_points WHERE collection_name = $1 ${filter ? 'AND payload @> $2' : ''}`,
      filter ? [`embedded-dataset-${pipeline.embeddedDatasetId}`, JSON.stringify(filter)] : [`embedded-dataset-${pipeline.embeddedDatasetId}`],
    );
    return Number(rows[0].count);
  }

  async function chunkCount(fileId: string): Promise<number> {
    const rows = await environment.query<{ count: string }>(
      `SELECT count(*) AS count FROM dataset_item_chunks c JOIN dataset_items i ON i.id = c.item_id WHERE i.source_file_id = $1`,
      [fileId],
    );
    return Number(rows[0].count);
  }

  it('indexes real documents and finds each one by a phrase it contains', async () => {
    const upload = await api.upload(pipeline.collection.id, [
      ...DOCUMENTS.map((document) => corpusFile(CORPUS_DIR, document.file)),
      corpusFile(CORPUS_DIR, 'docx-truncated-zip.docx'),
      corpusFile(CORPUS_DIR, 'pdf-encrypted-user-password-is-password.pdf'),
    ]);
    expect(upload.failed).toEqual([]);
    expect(upload.completed).toHaveLength(DOCUMENTS.length + 2);

    const files = await api.waitForSettled(pipeline.collection.id);
    for (const document of DOCUMENTS) {
      const file = files.find((candidate) => candidate.name === document.file);
      expect({ name: document.file, stage: file.stage, reason: file.stage_reason }).toEqual({
        name: document.file,
        stage: 'embedded',
        reason: null,
      });
    }

    for (const document of DOCUMENTS) {
      const result = await api.search(pipeline.embeddedDatasetId, document.query);
      expect(result.error).toBeUndefined();
      expect({ query: document.query, top: result.matches[0]?.source_file }).toEqual({ query: document.query, top: document.file });
      expect(result.matches[0].text.length).toBeGreaterThan(0);
      expect(result.matches[0].item_title).toBe(document.file);
    }
  });

  it('records unparseable files as failed with a reason while the rest are processed', async () => {
    const files = await api.files(pipeline.collection.id);
    const truncated = files.find((file) => file.name === 'docx-truncated-zip.docx');
    const encrypted = files.find((file) => file.name === 'pdf-encrypted-user-password-is-password.pdf');
    expect(truncated.stage).toBe('failed');
    expect(truncated.stage_reason).toMatch(/^docx_damaged/);
    expect(encrypted.stage).toBe('failed');
    expect(encrypted.stage_reason).toMatch(/^pdf_encrypted/);

    const failed = await api.get(`/api/collections/${pipeline.collection.id}/failed-files`);
    expect(failed.items.map((file: any) => file.name).sort()).toEqual(
      ['docx-truncated-zip.docx', 'pdf-encrypted-user-password-is-password.pdf'].sort(),
    );
    const stats = await api.get(`/api/collection-transforms/${pipeline.collectionTransform.id}/stats`);
    expect(stats).toMatchObject({ total_files: DOCUMENTS.length + 2, files_processed: DOCUMENTS.length, files_failed: 2, files_pending: 0 });
    const processed = await api.get(`/api/collection-transforms/${pipeline.collectionTransform.id}/processed-files`);
    const failedRows = processed.items.filter((row: any) => row.status === 'failed');
    expect(failedRows.map((row: any) => row.error_code).sort()).toEqual(['docx_damaged', 'pdf_encrypted']);
  });

  it('reports embedding progress for the dataset transform and embedded dataset', async () => {
    const transformStats = await api.get(`/api/dataset-transforms/${pipeline.datasetTransform.id}/stats`);
    expect(transformStats.status).toBe('completed');
    expect(transformStats.chunks_embedded).toBe(transformStats.total_chunks);
    expect(transformStats.batches_failed).toBe(0);
    expect(transformStats.batches_done).toBeGreaterThan(0);
    const embeddedStats = await api.get(`/api/embedded-datasets/${pipeline.embeddedDatasetId}/stats`);
    expect(embeddedStats.points).toBe(transformStats.total_chunks);
    expect(await pointCount()).toBe(transformStats.total_chunks);
  });

  it('leaves everything unchanged when the same content is uploaded again', async () => {
    const before = await pointCount();
    const upload = await api.upload(pipeline.collection.id, [
      { ...corpusFile(CORPUS_DIR, DOCUMENTS[3].file), name: 'copy-with-another-name.md' },
    ]);
    expect(upload.completed[0]).toMatchObject({ status: 'unchanged', duplicate_of: DOCUMENTS[3].file });
    expect(await api.files(pipeline.collection.id)).toHaveLength(DOCUMENTS.length + 2);
    expect(await pointCount()).toBe(before);
  });

  it('replaces the chunks and vectors of a changed file exactly', async () => {
    const first = Array.from({ length: 30 }, (_, index) => `Paragraph ${index} about glaciers and the alpine ice age.`).join('\n\n');
    await api.upload(pipeline.collection.id, [{ name: 'notes.md', content: first }]);
    let files = await api.waitForSettled(pipeline.collection.id);
    const original = files.find((file) => file.name === 'notes.md');
    expect(await pointCount({ file_id: original.id })).toBe(await chunkCount(original.id));

    const second = 'A single short note about volcanoes and basalt.';
    const upload = await api.upload(pipeline.collection.id, [{ name: 'notes.md', content: second }]);
    expect(upload.completed[0]).toMatchObject({ status: 'replaced', id: original.id });
    await waitFor('replacement embedded', async () => {
      files = await api.files(pipeline.collection.id);
      const replaced = files.find((file) => file.name === 'notes.md');
      return replaced.stage === 'embedded' && (await pointCount({ file_id: original.id })) === 1 && replaced;
    });
    expect(await chunkCount(original.id)).toBe(1);
    const result = await api.search(pipeline.embeddedDatasetId, 'volcanoes and basalt', 3);
    expect(result.matches[0].text).toBe(second);
    const stored = await environment.query<{ text: string }>(
      `SELECT payload->>'text' AS text FROM vector_points WHERE collection_name = $1 AND payload->>'file_id' = $2`,
      [`embedded-dataset-${pipeline.embeddedDatasetId}`, original.id],
    );
    expect(stored.map((row) => row.text)).toEqual([second]);
  });

  it('keeps one copy of chunks and points when a job is delivered twice', async () => {
    const files = await api.files(pipeline.collection.id);
    const file = files.find((candidate) => candidate.name === DOCUMENTS[1].file);
    const chunksBefore = await chunkCount(file.id);
    const pointsBefore = await pointCount({ file_id: file.id });
    const [{ revision }] = await environment.query<{ revision: string }>('SELECT revision FROM collection_files WHERE id = $1', [file.id]);
    // Force the job to run again: without a completed outcome it is not skipped.
    await environment.query('DELETE FROM transform_processed_files WHERE file_id = $1', [file.id]);

    const jetStream = running.app.get(JetStreamService);
    const job = {
      collection_transform_id: pipeline.collectionTransform.id,
      file_id: file.id,
      file_revision: revision,
    };
    const [{ owner_id }] = await environment.query<{ owner_id: string }>('SELECT owner_id FROM collection_files WHERE id = $1', [file.id]);
    for (let copy = 0; copy < 2; copy += 1) {
      await jetStream.publishJob(JobSubject.CollectionTransform, { ...job, owner_id, job_id: randomUUID() }, `duplicate-${randomUUID()}`);
    }

    await waitFor('both deliveries processed', async () => {
      const rows = await environment.query<{ status: string }>(
        'SELECT status FROM transform_processed_files WHERE file_id = $1',
        [file.id],
      );
      const settled = (await api.files(pipeline.collection.id)).find((candidate) => candidate.id === file.id);
      return rows[0]?.status === 'completed' && settled.stage === 'embedded';
    });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await waitFor('embedding settled', async () => (await api.files(pipeline.collection.id)).every((f) => f.stage !== 'embedding'));

    expect(await chunkCount(file.id)).toBe(chunksBefore);
    const items = await environment.query('SELECT id FROM dataset_items WHERE source_file_id = $1', [file.id]);
    expect(items).toHaveLength(1);
    expect(await pointCount({ file_id: file.id })).toBe(pointsBefore);
  });

  it('removes chunks and vectors with a deleted file', async () => {
    const files = await api.files(pipeline.collection.id);
    const file = files.find((candidate) => candidate.name === DOCUMENTS[0].file);
    expect(await pointCount({ file_id: file.id })).toBeGreaterThan(0);
    await api.delete(`/api/collections/${pipeline.collection.id}/files/${file.id}`);
    expect(await pointCount({ file_id: file.id })).toBe(0);
    expect(await chunkCount(file.id)).toBe(0);
    const result = await api.search(pipeline.embeddedDatasetId, DOCUMENTS[0].query);
    expect(result.matches.every((match) => match.source_file !== DOCUMENTS[0].file)).toBe(true);
  });

  it('serves health, metrics and the OpenAPI document', async () => {
    const ready = await api.get('/health/ready');
    expect(ready.status).toBe('healthy');
    expect(Object.keys(ready.components).sort()).toEqual(['blob_store', 'models', 'nats', 'postgres', 'vector_store']);
    expect(await api.get('/health/live')).toEqual({ status: 'ok' });
    const metrics: string = await api.get('/metrics');
    expect(metrics).toContain('http_requests_total{');
    expect(metrics).toContain('collection_transform_jobs_total{status="success"}');
    expect(metrics).toContain('dataset_transform_items_created');
    const openapi = await api.get('/openapi.json');
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/api/search', '/api/collections/{id}/files']));
    const filesSchema = openapi.paths['/api/collections/{id}/files'].get.responses['200'].content['application/json'].schema;
    expect(filesSchema.properties.items.items.$ref).toBe('#/components/schemas/CollectionFileResponse');
    expect(openapi.components.schemas.CollectionFileResponse).toBeDefined();
    // ROLE=all also serves the inference role's routes.
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/api/embed', '/v1/embeddings', '/api/rerank']));
  });

  it('rejects bad input with a clear error', async () => {
    const missing = await api.get(`/api/collections/${randomUUID()}`, 404);
    expect(missing.code).toBe('collection_not_found');
    const invalid = await api.post('/api/collections', { title: '' }, 400);
    expect(invalid.code).toBe('validation_failed');
    const overlap = await api.post(
      '/api/collection-transforms',
      {
        title: 'bad overlap',
        collection_id: pipeline.collection.id,
        dataset_id: pipeline.dataset.id,
        job_config: { chunking: { chunk_size: 100, chunk_overlap: 100 } },
      },
      400,
    );
    expect(overlap.message).toMatch(/chunk_overlap/);
    const unsupported = await api.upload(pipeline.collection.id, [{ name: 'tool.exe', content: Buffer.from([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0]) }]);
    expect(unsupported.failed[0]).toMatchObject({ name: 'tool.exe', code: 'unsupported_content_type' });
    const filter = await api.post('/api/search', { query: 'x', embedded_dataset_ids: [pipeline.embeddedDatasetId], filters: { secret: 1 } }, 400);
    expect(filter.code).toBe('invalid_filter');
  });

  it('accepts strategy options through the API', async () => {
    const base = { collection_id: pipeline.collection.id, dataset_id: pipeline.dataset.id, is_enabled: false };
    const code = await api.post(
      '/api/collection-transforms',
      { ...base, title: 'code chunks', job_config: { chunking: { strategy: 'code_aware', chunk_size: 400, options: { language: 'python' } } } },
      201,
    );
    expect(code.job_config.chunking).toMatchObject({ strategy: 'code_aware', chunk_size: 400, chunk_overlap: 40, options: { language: 'python' } });
    const semantic = await api.post(
      '/api/collection-transforms',
      {
        ...base,
        title: 'semantic chunks',
        job_config: { chunking: { strategy: 'semantic', chunk_size: 800, options: { embedder_id: pipeline.embedder.id } } },
      },
      201,
    );
    expect(semantic.job_config.chunking.options.embedder_id).toBe(pipeline.embedder.id);
    const missing = await api.post(
      '/api/collection-transforms',
      { ...base, title: 'semantic without embedder', job_config: { chunking: { strategy: 'semantic', chunk_size: 800 } } },
      400,
    );
    expect(missing.message).toMatch(/embedder_id/);
  });

  it('stores pushed vectors in a standalone embedded dataset', async () => {
    const standalone = await api.post('/api/embedded-datasets/standalone', { title: 'my vectors', dimensions: 4 }, 201);
    expect(standalone).toMatchObject({ dimensions: 4, embedder_id: null, dataset_transform_id: null });
    const points = ['a', 'b', 'c'].map((label, index) => ({ id: randomUUID(), vector: [1, index, 0, 0], payload: { label } }));
    const pushed = await api.post(`/api/embedded-datasets/${standalone.id}/push-vectors`, { points }, 200);
    expect(pushed).toEqual({ points_inserted: 3, collection_name: `embedded-dataset-${standalone.id}` });
    const stored = await environment.query<{ count: string }>('SELECT count(*) AS count FROM vector_points WHERE collection_name = $1', [
      pushed.collection_name,
    ]);
    expect(Number(stored[0].count)).toBe(3);

    const wrongLength = await api.post(`/api/embedded-datasets/${standalone.id}/push-vectors`, { points: [{ id: randomUUID(), vector: [1, 2] }] }, 400);
    expect(wrongLength.message).toMatch(/4/);
    const notStandalone = await api.post(`/api/embedded-datasets/${pipeline.embeddedDatasetId}/push-vectors`, { points }, 400);
    expect(notStandalone.code).toBe('embedded_dataset_not_standalone');
    const search = await api.search(standalone.id, 'anything');
    expect(search.error).toMatch(/no embedder/);

    await api.delete(`/api/embedded-datasets/${standalone.id}`);
    const after = await environment.query('SELECT 1 FROM vector_collections WHERE name = $1', [pushed.collection_name]);
    expect(after).toEqual([]);
  });

  it('removes every vector with a deleted collection', async () => {
    expect(await pointCount()).toBeGreaterThan(0);
    await api.delete(`/api/collections/${pipeline.collection.id}`);
    expect(await pointCount()).toBe(0);
    const chunks = await environment.query<{ count: string }>('SELECT count(*) AS count FROM dataset_item_chunks');
    expect(Number(chunks[0].count)).toBe(0);
  });
});
