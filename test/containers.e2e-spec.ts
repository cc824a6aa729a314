import { RunningApp } from 'src/main';
import { ApiClient, corpusFile } from './support/api-client';
import { startPipelineApp } from './support/pipeline-app';
import { CORPUS_DIR, TestEnvironment, waitFor } from './support/test-environment';

jest.setTimeout(240_000);

describe('archives and attachments (ROLE=all)', () => {
  const environment = new TestEnvironment('containers');
  let running: RunningApp;
  let api: ApiClient;
  let pipeline: Awaited<ReturnType<ApiClient['createPipeline']>>;

  beforeAll(async () => {
    ({ running, api, pipeline } = await startPipelineApp(environment, 'containers'));
  });

  afterAll(async () => {
    await running?.shutdown();
    await environment.destroy();
  });

  async function ledgerOf(fileName: string): Promise<any> {
    const files = await api.files(pipeline.collection.id);
    const file = files.find((candidate) => candidate.name === fileName);
    const processed = await api.get(`/api/collection-transforms/${pipeline.collectionTransform.id}/processed-files?limit=100`);
    return { file, ledger: processed.items.find((row: any) => row.file_id === file.id) };
  }

  it('indexes every archive entry as its own item with its path', async () => {
    const upload = await api.upload(pipeline.collection.id, [
      corpusFile(CORPUS_DIR, 'zip-mixed-office-pdf-html-xml.zip'),
      corpusFile(CORPUS_DIR, 'tgz-mixed-documents.tgz'),
      corpusFile(CORPUS_DIR, 'eml-with-pdf-attachment.eml'),
    ]);
    expect(upload.failed).toEqual([]);
    const files = await api.waitForSettled(pipeline.collection.id, 180_000);
    expect(files.map((file) => [file.name, file.stage])).toEqual(files.map((file) => [file.name, 'embedded']));

    const { ledger } = await ledgerOf('zip-mixed-office-pdf-html-xml.zip');
    const paths = ledger.entries.map((entry: { path: string }) => entry.path).sort();
    expect(paths).toEqual(
      ['testEXCEL.xls', 'testHTML.html', 'testOpenOffice2.odt', 'testPDF.pdf', 'testPPT.ppt', 'testRTF.rtf', 'testTXT.txt', 'testWORD.doc', 'testXML.xml'].sort(),
    );
    const html = ledger.entries.find((entry: { path: string }) => entry.path === 'testHTML.html');
    expect(html).toMatchObject({ status: 'completed' });
    expect(html.chunk_count).toBeGreaterThan(0);

    const items = await environment.query<{ title: string; source_entry_path: string }>(
      `SELECT i.title, i.source_entry_path FROM dataset_items i JOIN collection_files f ON f.id = i.source_file_id
        WHERE f.name = 'zip-mixed-office-pdf-html-xml.zip'`,
    );
    expect(items.map((item) => item.source_entry_path)).toContain('testHTML.html');
    expect(items.find((item) => item.source_entry_path === 'testHTML.html')?.title).toBe('zip-mixed-office-pdf-html-xml.zip/testHTML.html');

    const result = await api.search(pipeline.embeddedDatasetId, 'Test Indexation Html Indexation du fichier', 10);
    const fromZip = result.matches.find((match) => match.source_file === 'zip-mixed-office-pdf-html-xml.zip');
    expect(fromZip?.metadata.entry_path).toBe('testHTML.html');
  });

  it('indexes email attachments as items of the email', async () => {
    const { ledger } = await ledgerOf('eml-with-pdf-attachment.eml');
    expect(ledger.status).toBe('completed');
    expect(ledger.entries.length).toBeGreaterThan(0);
    expect(ledger.entries.every((entry: { path: string }) => entry.path.startsWith('attachment:'))).toBe(true);
  });

  it('indexes each JSON record as its own item in records mode', async () => {
    const collection = await api.post('/api/collections', { title: 'records files' }, 201);
    await api.post(
      '/api/collection-transforms',
      {
        title: 'records extraction',
        collection_id: collection.id,
        dataset_id: pipeline.dataset.id,
        job_config: { extraction: { json_mode: 'records' } },
      },
      201,
    );
    await api.upload(collection.id, [corpusFile(CORPUS_DIR, 'ndjson-amazon-cellphones-array-rows.ndjson')]);
    const [file] = await api.waitForSettled(collection.id);
    expect(file.stage).toBe('embedded');
    const items = await environment.query<{ source_entry_path: string }>(
      'SELECT source_entry_path FROM dataset_items WHERE source_file_id = $1 ORDER BY created_at',
      [file.id],
    );
    expect(items.length).toBeGreaterThan(1);
    expect(items.every((item) => /^line:\d+$/.test(item.source_entry_path))).toBe(true);
  });

  it('retries failed files on request', async () => {
    await api.upload(pipeline.collection.id, [corpusFile(CORPUS_DIR, 'pdf-encrypted-user-password-is-password.pdf')]);
    await api.waitForSettled(pipeline.collection.id);
    const before = await ledgerOf('pdf-encrypted-user-password-is-password.pdf');
    expect(before.file.stage).toBe('failed');

    const retry = await api.post(`/api/collection-transforms/${pipeline.collectionTransform.id}/retry-failed`, {}, 201);
    expect(retry.retried_count).toBe(1);
    const after = await waitFor('second attempt recorded', async () => {
      const current = await ledgerOf('pdf-encrypted-user-password-is-password.pdf');
      return current.ledger.attempts === before.ledger.attempts + 1 && current.file.stage === 'failed' && current;
    });
    expect(after.ledger.error_code).toBe('pdf_encrypted');
  });
});
