import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { RunningApp, startApp } from 'src/main';
import { ApiClient } from './support/api-client';
import { TestEnvironment } from './support/test-environment';

jest.setTimeout(120_000);

// s3rver accepts requests signed with these fixed credentials.
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const BUCKET = 'semantic-explorer-e2e';

describe('pipeline on S3 storage', () => {
  const environment = new TestEnvironment('s3');
  const s3Dir = mkdtempSync(path.join(tmpdir(), 'se-s3rver-'));
  let s3: S3rver;
  let endpoint: string;
  let running: RunningApp;
  let api: ApiClient;

  beforeAll(async () => {
    s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir });
    const { port } = await s3.run();
    endpoint = `http://127.0.0.1:${port}`;
    await environment.createDatabase();
    running = await startApp(
      environment.config({
        ROLE: 'all',
        STORAGE_BACKEND: 's3',
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: 'us-east-1',
        S3_BUCKET_NAME: BUCKET,
        S3_FORCE_PATH_STYLE: 'true',
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        MAX_FILE_SIZE_MB: '1',
      }),
    );
    api = new ApiClient(running.url.replace('[::1]', '127.0.0.1'));
  });

  afterAll(async () => {
    await running?.shutdown();
    await s3?.close();
    await environment.destroy();
    rmSync(s3Dir, { recursive: true, force: true });
  });

  async function keysUnder(prefix: string): Promise<string[]> {
    const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS });
    try {
      const listing = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
      return (listing.Contents ?? []).map((entry) => entry.Key!);
    } finally {
      client.destroy();
    }
  }

  it('stores, limits and deletes blobs', async () => {
    const pipeline = await api.createPipeline('s3');
    const guide = '# Field guide\n\nThe kestrel hovers over meadows before it dives.\n';
    const oversized = 'x'.repeat(1024 * 1024 + 10);
    const upload = await api.upload(pipeline.collection.id, [
      { name: 'guide.md', content: guide },
      { name: 'huge.txt', content: oversized },
    ]);
    expect(upload.completed.map((file) => file.name)).toEqual(['guide.md']);
    expect(upload.failed).toEqual([expect.objectContaining({ name: 'huge.txt', code: 'file_too_large' })]);
    expect(await keysUnder(`collections/${pipeline.collection.id}/`)).toHaveLength(1);

    const [file] = await api.waitForSettled(pipeline.collection.id);
    expect(file.stage).toBe('embedded');
    const download = await fetch(`${api.baseUrl}/api/collections/${pipeline.collection.id}/files/${file.id}`);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe(guide);
    expect(download.headers.get('content-disposition')).toContain('guide.md');

    const result = await api.search(pipeline.embeddedDatasetId, 'kestrel hovering over a meadow');
    expect(result.matches[0].source_file).toBe('guide.md');

    await api.delete(`/api/collections/${pipeline.collection.id}`);
    expect(await keysUnder(`collections/${pipeline.collection.id}/`)).toEqual([]);
  });
});
