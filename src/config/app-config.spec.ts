import { ConfigValidationError, loadConfig } from 'src/config/app-config';
import { parseRoles } from 'src/config/roles';

const BASE = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/app' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  return [];
}

describe(loadConfig.name, () => {
  it('applies defaults', () => {
    const sut = loadConfig(BASE);
    expect(sut.roles).toEqual(['api', 'worker-collections', 'worker-datasets', 'worker-viz', 'inference']);
    expect(sut.server.port).toBe(8080);
    expect(sut.nats.replicas).toBe(1);
    expect(sut.nats.retryBackoffSecs).toEqual([30, 60, 120, 300]);
    expect(sut.storage.backend).toBe('filesystem');
    expect(sut.storage.maxFileBytes).toBe(100 * 1024 * 1024);
  });

  it('reads deployment guide variables', () => {
    const sut = loadConfig({
      ...BASE,
      ROLE: 'api',
      DB_MAX_CONNECTIONS: '20',
      DB_MIN_CONNECTIONS: '2',
      DB_ACQUIRE_TIMEOUT_SECS: '30',
      NATS_REPLICAS: '3',
      MAX_CONCURRENT_JOBS: '4',
      SHUTDOWN_TIMEOUT_SECS: '45',
      LOG_FORMAT: 'pretty',
      HOSTNAME: '0.0.0.0',
    });
    expect(sut.roles).toEqual(['api']);
    expect(sut.database).toMatchObject({ maxConnections: 20, minConnections: 2, acquireTimeoutSecs: 30 });
    expect(sut.nats).toMatchObject({ replicas: 3, maxConcurrentJobs: 4 });
    expect(sut.server).toMatchObject({ shutdownTimeoutSecs: 45, logFormat: 'pretty', hostname: '0.0.0.0' });
  });

  it('lists every invalid variable with its name', () => {
    const problems = problemsOf({ ...BASE, PORT: 'eighty', NATS_REPLICAS: '9', LOG_FORMAT: 'xml' });
    expect(problems).toHaveLength(3);
    expect(problems.find((problem) => problem.startsWith('PORT'))).toContain('"eighty"');
    expect(problems.find((problem) => problem.startsWith('NATS_REPLICAS'))).toBeDefined();
    expect(problems.find((problem) => problem.startsWith('LOG_FORMAT'))).toContain('json');
  });

  it('requires DATABASE_URL', () => {
    expect(problemsOf({})).toEqual([expect.stringMatching(/^DATABASE_URL is missing/)]);
  });

  it('lets the inference role run without DATABASE_URL', () => {
    const sut = loadConfig({ ROLE: 'inference' });
    expect(sut.roles).toEqual(['inference']);
    expect(sut.inference.port).toBe(8090);
  });

  it('reads the inference settings of the deployment guide', () => {
    const sut = loadConfig({
      ROLE: 'inference',
      INFERENCE_PORT: '8090',
      INFERENCE_CUDA_ENABLED: 'true',
      INFERENCE_CUDA_DEVICE_ID: '1',
      INFERENCE_PRELOAD_MODELS: 'BAAI/bge-small-en-v1.5, BAAI/bge-reranker-base',
      HF_HOME: '/models',
      HF_ENDPOINT: 'https://artifactory.example.com/api/huggingfaceml/hf/',
    });
    expect(sut.inference).toMatchObject({
      cudaEnabled: true,
      cudaDeviceId: 1,
      preloadModels: ['BAAI/bge-small-en-v1.5', 'BAAI/bge-reranker-base'],
      allowedModels: ['BAAI/bge-small-en-v1.5', 'BAAI/bge-reranker-base'],
      hfHome: '/models',
      hubCacheDir: '/models/hub',
      downloadEndpoint: 'https://artifactory.example.com/api/huggingfaceml/hf',
    });
  });

  it('allows downloads only with HF_ENDPOINT and without HF_HUB_OFFLINE', () => {
    expect(loadConfig({ ROLE: 'inference' }).inference.downloadEndpoint).toBeUndefined();
    expect(loadConfig({ ROLE: 'inference', HF_ENDPOINT: 'http://hub.local', HF_HUB_OFFLINE: '1' }).inference.downloadEndpoint).toBeUndefined();
  });

  it('rejects preloaded models missing from the allow-list', () => {
    expect(problemsOf({ ROLE: 'inference', INFERENCE_PRELOAD_MODELS: 'a/b', INFERENCE_ALLOWED_MODELS: 'c/d' })).toEqual([
      'INFERENCE_PRELOAD_MODELS names models missing from INFERENCE_ALLOWED_MODELS: a/b',
    ]);
  });

  it('rejects model ids that are not repository ids', () => {
    const [problem] = problemsOf({ ROLE: 'inference', INFERENCE_PRELOAD_MODELS: '../secrets' });
    expect(problem).toContain('INFERENCE_PRELOAD_MODELS');
  });

  it('points internal embedders at its own port when it also runs inference', () => {
    expect(loadConfig({ ...BASE, PORT: '9000' }).pipeline.inferenceUrl).toBe('http://127.0.0.1:9000');
    expect(loadConfig({ ...BASE, ROLE: 'api' }).pipeline.inferenceUrl).toBe('http://localhost:8090');
  });

  it('never prints the value of an invalid secret', () => {
    const key = 'f'.repeat(63);
    const [problem] = problemsOf({ ...BASE, ENCRYPTION_MASTER_KEY: key });
    expect(problem).toContain('ENCRYPTION_MASTER_KEY has invalid value (not shown: secret)');
    expect(problem).not.toContain(key);
  });

  it("rejects INFERENCE_ALLOWED_MODELS='*' with downloads on", () => {
    const [problem] = problemsOf({ ROLE: 'inference', INFERENCE_ALLOWED_MODELS: '*', HF_ENDPOINT: 'https://hub.example.com' });
    expect(problem).toContain('any client make the service download any repository');
    expect(problemsOf({ ROLE: 'inference', INFERENCE_ALLOWED_MODELS: '*', HF_ENDPOINT: 'https://hub.example.com', HF_HUB_OFFLINE: 'true' })).toEqual([]);
  });

  it('masks passwords in URL values of errors', () => {
    const [problem] = problemsOf({ ...BASE, QDRANT_URL: 'http://user:hunter2@qdrant:6333 bad' });
    expect(problem).toContain('http://user:***@qdrant');
    expect(problem).not.toContain('hunter2');
  });

  it('rejects credentials in HF_ENDPOINT', () => {
    const [problem] = problemsOf({ ROLE: 'inference', HF_ENDPOINT: 'https://user:pass@mirror.example.com/hf' });
    expect(problem).toContain('HF_TOKEN');
    expect(problem).not.toContain('pass@');
  });

  it('rejects an HF_ENDPOINT that is not http or https', () => {
    const [problem] = problemsOf({ ROLE: 'inference', HF_ENDPOINT: 'file:///etc' });
    expect(problem).toContain('HF_ENDPOINT');
  });

  it('requires S3 settings only for the s3 backend', () => {
    const problems = problemsOf({ ...BASE, STORAGE_BACKEND: 's3' });
    expect(problems).toEqual([
      expect.stringMatching(/^AWS_REGION is missing/),
      expect.stringMatching(/^S3_BUCKET_NAME is missing/),
    ]);
  });

  it('rejects min connections above max', () => {
    expect(problemsOf({ ...BASE, DB_MIN_CONNECTIONS: '30', DB_MAX_CONNECTIONS: '10' })).toEqual([
      expect.stringContaining('DB_MIN_CONNECTIONS (30) must not exceed DB_MAX_CONNECTIONS (10)'),
    ]);
  });

  it('parses a retry backoff list', () => {
    expect(loadConfig({ ...BASE, JOB_RETRY_BACKOFF_SECS: '1, 2,5' }).nats.retryBackoffSecs).toEqual([1, 2, 5]);
    expect(problemsOf({ ...BASE, JOB_RETRY_BACKOFF_SECS: 'soon' })[0]).toMatch(/^JOB_RETRY_BACKOFF_SECS/);
  });
});

describe(parseRoles.name, () => {
  it('accepts a comma-separated list', () => {
    expect(parseRoles('worker-datasets, worker-collections')).toEqual(['worker-collections', 'worker-datasets']);
  });

  it('rejects an unknown role naming ROLE and the accepted values', () => {
    expect(() => parseRoles('api,indexer')).toThrow(/ROLE contains unknown role "indexer"; accepted values: all, api, worker-collections/);
  });

  it('rejects an empty list', () => {
    expect(() => parseRoles(' , ')).toThrow(/ROLE is empty/);
  });
});
