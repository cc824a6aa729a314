import { HubApiError } from '@huggingface/hub';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { downloadModel, HubTimeouts } from 'src/inference/model-download';
import { locateModel } from 'src/inference/model-files';
import { HubStub, HubStubFaults } from 'src/testing/hub-stub';

const MODEL = 'test-org/tiny';
const TOKEN = 'hf_unitTestSecretToken123';

// Files a repository of an exported sentence-transformers model typically has. The last two
// are not read by the inference role and must not be downloaded.
const SOURCE_FILES: Record<string, Buffer> = {
  'tokenizer.json': Buffer.from('{"version":"1.0"}'),
  'config.json': Buffer.from('{"hidden_size":8}'),
  '1_Pooling/config.json': Buffer.from('{"pooling_mode_mean_tokens":true}'),
  'onnx/model.onnx': randomBytes(4096),
  'onnx/model.onnx_data': randomBytes(1024),
  'onnx/model_quantized.onnx': randomBytes(64),
  'README.md': Buffer.from('# tiny'),
};
const DOWNLOADED_FILES = ['tokenizer.json', 'config.json', '1_Pooling/config.json', 'onnx/model.onnx', 'onnx/model.onnx_data'];

/** Lists the files under `dir` as slash-separated paths relative to `dir`. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => statSync(join(dir, path)).isFile())
    .map((path) => path.split('\\').join('/'))
    .sort();
}

describe('downloadModel', () => {
  let root: string;
  let cacheDir: string;
  let repoDir: string;
  let hub: HubStub | undefined;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'se-model-download-'));
    cacheDir = join(root, 'cache', 'hub');
    repoDir = join(cacheDir, 'models--test-org--tiny');
    for (const [path, content] of Object.entries(SOURCE_FILES)) {
      mkdirSync(dirname(join(root, 'source', path)), { recursive: true });
      writeFileSync(join(root, 'source', path), content);
    }
  });

  afterEach(async () => {
    await hub?.stop();
    hub = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  async function startHub(faults: HubStubFaults = {}): Promise<string> {
    hub = new HubStub(faults);
    hub.addRepo(MODEL, join(root, 'source'));
    return hub.start();
  }

  function download(endpoint: string, options: { token?: string; timeoutSecs?: number } & HubTimeouts = {}) {
    const { token, timeoutSecs, ...timeouts } = options;
    return downloadModel(MODEL, { endpoint, token, cacheDir, timeoutSecs }, timeouts);
  }

  /** Asserts that the only files outside the source folder lie in the model's cache folder. */
  function expectNothingOutsideRepoDir(): void {
    const outside = filesUnder(root).filter((path) => !path.startsWith('source/') && !join(root, path).startsWith(repoDir + '/'));
    expect(outside).toEqual([]);
  }

  /** Asserts that a failed download left nothing that the model locator or a reader could take for the model. */
  async function expectNoUsableSnapshot(): Promise<void> {
    expect(existsSync(join(repoDir, 'refs', 'main'))).toBe(false);
    // Finished files may stay for the next attempt, but never tokenizer.json or a temporary file.
    const left = filesUnder(join(repoDir, 'snapshots'));
    expect(left.filter((path) => path.endsWith('tokenizer.json') || path.endsWith('.incomplete'))).toEqual([]);
    await expect(locateModel(MODEL, { hubCacheDir: cacheDir, hfHome: join(root, 'hf-home') })).resolves.toBeUndefined();
  }

  it('writes model files into the hub cache layout', async () => {
    const endpoint = await startHub();

    const snapshotDir = await download(endpoint);

    const commit = readFileSync(join(repoDir, 'refs', 'main'), 'utf8');
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    expect(snapshotDir).toBe(join(repoDir, 'snapshots', commit));
    expect(filesUnder(snapshotDir)).toEqual([...DOWNLOADED_FILES].sort());
    for (const path of DOWNLOADED_FILES) {
      expect(readFileSync(join(snapshotDir, path)).equals(SOURCE_FILES[path])).toBe(true);
    }
    expect(filesUnder(repoDir).filter((path) => path.includes('.incomplete'))).toEqual([]);
    expect(existsSync(join(repoDir, 'blobs'))).toBe(false);
    expect(hub!.requests.some((request) => request.path === `/${MODEL}/resolve/${commit}/onnx/model.onnx`)).toBe(true);
    expect(hub!.requests.some((request) => request.path.includes('model_quantized'))).toBe(false);
    // tokenizer.json marks a usable snapshot folder, so it is written last.
    const downloads = hub!.requests.filter((request) => request.path.includes('/resolve/'));
    expect(downloads.at(-1)?.path).toBe(`/${MODEL}/resolve/${commit}/tokenizer.json`);
    await expect(locateModel(MODEL, { hubCacheDir: cacheDir, hfHome: join(root, 'hf-home') })).resolves.toBe(snapshotDir);
  });

  it('sends the token as a Bearer header', async () => {
    const endpoint = await startHub();

    await download(endpoint, { token: TOKEN });

    expect(hub!.requests.length).toBeGreaterThan(DOWNLOADED_FILES.length);
    for (const request of hub!.requests) {
      expect(request.authorization).toBe(`Bearer ${TOKEN}`);
    }
  });

  it('sends no Authorization header without a token', async () => {
    const endpoint = await startHub();

    await download(endpoint);

    for (const request of hub!.requests) {
      expect(request.authorization).toBeUndefined();
    }
  });

  it.each(['../../x', '../../../../victim', 'main', 'A'.repeat(40), 'a'.repeat(39), `${'a'.repeat(40)}/..`])(
    'rejects commit id %j',
    async (sha) => {
      const endpoint = await startHub({ sha });

      const failure = download(endpoint);

      await expect(failure).rejects.toThrow('invalid commit id');
      await expect(failure).rejects.toThrow(endpoint);
      await expect(failure).rejects.toThrow(MODEL);
      expect(filesUnder(root).filter((path) => !path.startsWith('source/'))).toEqual([]);
      expect(hub!.requests.some((request) => request.path.includes('/resolve/'))).toBe(false);
    },
  );

  it('skips traversal and unneeded paths', async () => {
    const endpoint = await startHub({
      extraEntries: ['../../escape.json', 'onnx/../../../escape.onnx', '/tmp/escape.json', '../1_Pooling/config.json'],
      oid: '../../../../etag-escape',
    });

    const snapshotDir = await download(endpoint);

    expect(filesUnder(snapshotDir)).toEqual([...DOWNLOADED_FILES].sort());
    expectNothingOutsideRepoDir();
    expect(filesUnder(root).filter((path) => path.includes('escape'))).toEqual([]);
    expect(hub!.requests.some((request) => request.path.includes('escape'))).toBe(false);
  });

  it('skips a file path with backslashes', async () => {
    const endpoint = await startHub({ extraEntries: ['..\\..\\escape.json', '..\\config.json'] });

    const snapshotDir = await download(endpoint);

    expect(filesUnder(snapshotDir)).toEqual([...DOWNLOADED_FILES].sort());
    expect(filesUnder(root).filter((path) => path.includes('escape'))).toEqual([]);
  });

  it('times out when the hub never responds', async () => {
    const endpoint = await startHub({ neverRespond: true });
    const started = Date.now();

    const failure = download(endpoint, { token: TOKEN, metadataTimeoutSecs: 0.2 });

    await expect(failure).rejects.toThrow(`Fetching the model info of ${MODEL} from ${endpoint} timed out after 0.2 s`);
    expect(Date.now() - started).toBeLessThan(3000);
    await expect(failure).rejects.not.toThrow(TOKEN);
    expect(filesUnder(root).filter((path) => !path.startsWith('source/'))).toEqual([]);
  });

  it('aborts a file download that stalls', async () => {
    const endpoint = await startHub({ stall: { path: 'onnx/model.onnx', afterBytes: 10 } });

    const failure = download(endpoint, { stallTimeoutSecs: 0.3 });

    await expect(failure).rejects.toThrow(`Downloading onnx/model.onnx of ${MODEL} from ${endpoint} timed out: no data arrived for 0.3 s`);
    await expectNoUsableSnapshot();
    expectNothingOutsideRepoDir();
  });

  it('aborts a slow download at the deadline', async () => {
    const endpoint = await startHub({ trickle: { path: 'onnx/model.onnx', intervalMs: 10 } });

    const failure = download(endpoint, { timeoutSecs: 0.5, stallTimeoutSecs: 5 });

    await expect(failure).rejects.toThrow(`Downloading onnx/model.onnx of ${MODEL} from ${endpoint} timed out`);
    await expect(failure).rejects.toThrow('did not finish within 0.5 s');
    await expectNoUsableSnapshot();
  });

  it('rejects a file shorter than listed', async () => {
    const endpoint = await startHub({ truncate: { path: 'onnx/model.onnx', afterBytes: 100 } });

    const failure = download(endpoint);

    await expect(failure).rejects.toThrow('received 100 bytes, but the listing states 4096');
    await expect(failure).rejects.toThrow('onnx/model.onnx');
    await expectNoUsableSnapshot();
  });

  it('keeps an existing snapshot folder when a retry fails', async () => {
    const endpoint = await startHub();
    const snapshotDir = await download(endpoint);
    await hub!.stop();
    rmSync(join(repoDir, 'refs'), { recursive: true });

    const stalling = await startHub({ stall: { path: 'onnx/model.onnx', afterBytes: 10 } });
    await expect(download(stalling, { stallTimeoutSecs: 0.3 })).rejects.toThrow('timed out');

    expect(filesUnder(snapshotDir)).toEqual([...DOWNLOADED_FILES].sort());
    expect(readFileSync(join(snapshotDir, 'onnx', 'model.onnx')).equals(SOURCE_FILES['onnx/model.onnx'])).toBe(true);
    expect(existsSync(join(repoDir, 'refs', 'main'))).toBe(false);
  });

  it('throws HubApiError 404 for a missing repository', async () => {
    const endpoint = await startHub();

    const failure = downloadModel('test-org/absent', { endpoint, cacheDir });

    await expect(failure).rejects.toBeInstanceOf(HubApiError);
    await expect(failure).rejects.toMatchObject({ statusCode: 404 });
    await expect(failure).rejects.toThrow(`Fetching the model info of test-org/absent from ${endpoint} failed with HTTP 404`);
    expect(filesUnder(root).filter((path) => !path.startsWith('source/'))).toEqual([]);
  });

  it('keeps the token out of echoed errors', async () => {
    const endpoint = await startHub({ echoAuthorization: true });

    const failure = downloadModel('test-org/absent', { endpoint, token: TOKEN, cacheDir });

    await expect(failure).rejects.toMatchObject({ statusCode: 404 });
    await expect(failure).rejects.toThrow('[redacted]');
    await expect(failure).rejects.not.toThrow(TOKEN);
    const error = (await failure.catch((caught: unknown) => caught)) as HubApiError;
    expect(JSON.stringify(error.data ?? null)).not.toContain(TOKEN);
    expect(hub!.requests[0].authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('names endpoint and cause when the connection is refused', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const endpoint = `http://127.0.0.1:${port}`;

    const failure = download(endpoint, { token: TOKEN });

    await expect(failure).rejects.toThrow(`Fetching the model info of ${MODEL} from ${endpoint} failed`);
    await expect(failure).rejects.toThrow('ECONNREFUSED');
    await expect(failure).rejects.not.toThrow(TOKEN);
  });

  it('refuses a listing link to another origin', async () => {
    const endpoint = await startHub();
    const collector = createServer((request, response) => {
      collected.push(request.headers.authorization);
      response.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
    const collected: Array<string | undefined> = [];
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    // A front server that adds a paging link to the other origin, as a hostile mirror could.
    const front = createServer(async (request, response) => {
      const upstream = await fetch(`${endpoint}${request.url}`, { headers: { authorization: request.headers.authorization ?? '' } });
      const headers: Record<string, string> = { 'content-type': upstream.headers.get('content-type') ?? 'application/json' };
      if (request.url?.includes('/tree/')) headers.link = `<${collectorUrl}/collect?cursor=1>; rel="next"`;
      response.writeHead(upstream.status, headers).end(Buffer.from(await upstream.arrayBuffer()));
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    try {
      const frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
      const failure = download(frontUrl, { token: TOKEN });

      await expect(failure).rejects.toThrow('link to another origin');
      expect(collected).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => front.close(() => resolve()));
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    }
  });

  it('rejects a non-positive timeout', async () => {
    await expect(download('http://127.0.0.1:9', { timeoutSecs: 0 })).rejects.toThrow('timeoutSecs must be a positive number of seconds');
    await expect(download('http://127.0.0.1:9', { stallTimeoutSecs: Number.NaN })).rejects.toThrow('stallTimeoutSecs');
  });
});
