import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { ApiClient, corpusFile } from './support/api-client';
import { AppProcess, freePort } from './support/app-process';
import { CORPUS_DIR, NATS_URL, TestEnvironment, waitFor } from './support/test-environment';

jest.setTimeout(300_000);

function paragraphFile(index: number, paragraphs: number): string {
  const lines: string[] = [];
  for (let paragraph = 0; paragraph < paragraphs; paragraph += 1) {
    lines.push(`Report ${index} section ${paragraph}: the marker${index}token appears in observation ${paragraph} of series ${index}.`);
  }
  return lines.join('\n\n');
}

describe('API and workers in separate processes', () => {
  const environment = new TestEnvironment('processes');
  let api: AppProcess;
  let workers: AppProcess;
  let client: ApiClient;

  beforeAll(async () => {
    await environment.createDatabase();
    api = new AppProcess('api', environment.env({ ROLE: 'api', PORT: String(await freePort()), STREAM_STALL_THRESHOLD_SECS: '2' }));
    workers = new AppProcess(
      'workers',
      environment.env({
        ROLE: 'worker-collections,worker-datasets',
        PORT: String(await freePort()),
        MAX_CONCURRENT_JOBS: '2',
        JOB_RETRY_BACKOFF_SECS: '2,2,2,2',
      }),
    );
    await api.start();
    client = new ApiClient(api.url);
  });

  afterAll(async () => {
    await workers?.stop();
    await api?.stop();
    await environment.destroy();
  });

  it('processes every file exactly once across a worker killed mid-job', async () => {
    const pipeline = await client.createPipeline('processes');
    await workers.start();

    const small = Array.from({ length: 12 }, (_, index) => ({ name: `report-${index}.txt`, content: paragraphFile(index, 30) }));
    // Large enough that extracting and storing its chunks takes a few seconds.
    const large = { name: 'large-report.txt', content: paragraphFile(999, 40_000) };
    const upload = await client.upload(pipeline.collection.id, [large, ...small, corpusFile(CORPUS_DIR, 'pdf-two-column-arxiv-dpr-paper.pdf')]);
    expect(upload.failed).toEqual([]);

    const largeId = upload.completed.find((file) => file.name === 'large-report.txt').id;
    await waitFor('the large file in progress', async () => {
      const [row] = await environment.query<{ stage: string }>('SELECT stage FROM collection_files WHERE id = $1', [largeId]);
      return row.stage === 'extracting';
    }, 60_000, 20);
    workers.kill('SIGKILL');
    expect(await workers.waitForExit()).toBeNull();

    await workers.start();
    const files = await client.waitForSettled(pipeline.collection.id, 180_000);
    expect(files.map((file) => [file.name, file.stage])).toEqual(files.map((file) => [file.name, 'embedded']));

    const items = await environment.query<{ source_file_id: string; count: string }>(
      'SELECT source_file_id, count(*) AS count FROM dataset_items GROUP BY source_file_id',
    );
    expect(items).toHaveLength(files.length);
    expect(items.every((row) => Number(row.count) === 1)).toBe(true);

    const gaps = await environment.query<{ item_id: string }>(
      `SELECT item_id FROM dataset_item_chunks GROUP BY item_id HAVING max(chunk_index) + 1 <> count(*)`,
    );
    expect(gaps).toEqual([]);

    const [counts] = await environment.query<{ chunks: string; embedded: string; points: string; pending: string }>(
      `SELECT (SELECT count(*) FROM dataset_item_chunks) AS chunks,
              (SELECT count(*) FROM embedded_chunks WHERE embedded_at IS NOT NULL) AS embedded,
              (SELECT count(*) FROM embedded_chunks WHERE embedded_at IS NULL) AS pending,
              (SELECT count(*) FROM vector_points WHERE collection_name = $1) AS points`,
      [`embedded-dataset-${pipeline.embeddedDatasetId}`],
    );
    expect(Number(counts.pending)).toBe(0);
    expect(Number(counts.embedded)).toBe(Number(counts.chunks));
    expect(Number(counts.points)).toBe(Number(counts.chunks));

    const result = await client.search(pipeline.embeddedDatasetId, 'marker7token observation series 7', 3);
    expect(result.matches[0].source_file).toBe('report-7.txt');
  });

  it('stops a worker on SIGTERM with exit code 0', async () => {
    workers.kill('SIGTERM');
    expect(await workers.waitForExit()).toBe(0);
  });

  it('reports work that waits with no worker bound in API readiness', async () => {
    const connection = await connect({ servers: NATS_URL });
    try {
      await jetstream(connection).publish(`${environment.streamPrefix}.workers.visualization-transform`, JSON.stringify({ job_id: 'x' }));
    } finally {
      await connection.close();
    }
    const report = await waitFor('a stalled stream', async () => {
      const ready = await client.get('/health/ready');
      return ready.status === 'degraded' && ready;
    }, 20_000, 500);
    const stalled = report.streams.filter((stream: { stalled: boolean }) => stream.stalled);
    expect(stalled.map((stream: { stream: string }) => stream.stream)).toEqual([
      `${environment.streamPrefix.toUpperCase()}_VISUALIZATION_TRANSFORMS`,
    ]);
  });

  it('refuses to start with an unknown role, naming the variable', async () => {
    const broken = new AppProcess('broken', environment.env({ ROLE: 'api,indexer', PORT: String(await freePort()) }));
    await expect(broken.start(10_000)).rejects.toThrow(/ROLE contains unknown role "indexer"/);
    expect(broken.exitCode).toBe(1);
  });

  it('stops with a message when NATS is unreachable', async () => {
    const env = environment.env({ ROLE: 'api', PORT: String(await freePort()), NATS_URL: 'nats://127.0.0.1:1', NATS_CONNECT_TIMEOUT_SECS: '3' });
    const stranded = new AppProcess('no-nats', env);
    try {
      await expect(stranded.start(20_000)).rejects.toThrow(/NATS at nats:\/\/127\.0\.0\.1:1 is unreachable/);
      expect(stranded.exitCode).toBe(1);
    } finally {
      await stranded.stop();
    }
  });
});
