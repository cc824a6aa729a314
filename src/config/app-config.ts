import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseRoles, Role } from 'src/config/roles';
import { MODEL_ID_PATTERN } from 'src/inference/model-id';
import { ContainerLimits } from 'src/workers/collections/extraction/extraction.types';

const integer = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const modelList = z
  .string()
  .transform((value) => value.split(',').map((part) => part.trim()).filter((part) => part.length > 0))
  .refine((ids) => ids.every((id) => MODEL_ID_PATTERN.test(id)), {
    message: 'expected a comma-separated list of model ids such as BAAI/bge-small-en-v1.5',
  });

const secondsList = z
  .string()
  .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, { message: 'expected a comma-separated list of whole seconds, e.g. 30,60,120,300' })
  .transform((value) => value.split(',').map((part) => Number(part.trim())));

/**
 * Every environment variable the application reads, with its default. Variables that only
 * one storage backend needs are checked in `loadConfig` once the backend is known.
 */
const environmentSchema = z.object({
  ROLE: z.string().default('all'),
  SERVICE_NAME: z.string().min(1).default('semantic-explorer'),
  HOSTNAME: z.string().min(1).default('127.0.0.1'),
  // 0 binds any free port (tests and the demo command use it).
  PORT: integer(0, 65535).default(8080),
  HEALTH_CHECK_PORT: integer(1, 65535).default(8081),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_SECS: integer(1, 3600).default(30),
  HTTP_MAX_JSON_BODY_MB: integer(1, 1024).default(32),

  // Required by every role but `inference`; checked in `loadConfig` once the roles are known.
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, { message: 'expected a postgres:// or postgresql:// URL' })
    .optional(),
  DB_MAX_CONNECTIONS: integer(1, 1000).default(15),
  DB_MIN_CONNECTIONS: integer(0, 1000).default(2),
  DB_ACQUIRE_TIMEOUT_SECS: integer(1, 600).default(5),
  DB_IDLE_TIMEOUT_SECS: integer(1, 86400).default(300),
  DB_MAX_LIFETIME_SECS: integer(1, 86400).default(1800),
  DB_RUN_MIGRATIONS: boolean.default(false),
  DB_STATEMENT_TIMEOUT_SECS: integer(1, 3600).default(30),

  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  NATS_REPLICAS: integer(1, 5).default(1),
  NATS_CONNECT_TIMEOUT_SECS: integer(1, 3600).default(60),
  NATS_STREAM_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/, { message: 'expected letters, digits, "-" or "_" only' })
    .default(''),
  MAX_CONCURRENT_JOBS: integer(1, 1000).default(10),
  PROCESSING_TIMEOUT_SECS: integer(1, 86400).default(3600),
  JOB_RETRY_BACKOFF_SECS: secondsList.default([30, 60, 120, 300]),
  STREAM_STALL_THRESHOLD_SECS: integer(1, 86400).default(300),
  RECONCILIATION_INTERVAL_SECS: integer(1, 86400).default(300),

  STORAGE_BACKEND: z.enum(['filesystem', 's3']).default('filesystem'),
  DATA_DIR: z.string().min(1).default('./.data'),
  AWS_ENDPOINT_URL: z.string().url().optional(),
  AWS_REGION: z.string().min(1).optional(),
  AWS_ACCESS_KEY_ID: z.string().optional(),
  AWS_SECRET_ACCESS_KEY: z.string().optional(),
  S3_BUCKET_NAME: z.string().min(3).max(63).optional(),
  S3_FORCE_PATH_STYLE: boolean.default(false),
  MAX_FILE_SIZE_MB: integer(1, 10240).default(100),
  S3_MAX_UPLOAD_SIZE_BYTES: integer(1).default(1024 * 1024 * 1024),

  VECTOR_STORE: z.enum(['postgres', 'qdrant']).default('postgres'),
  QDRANT_URL: z.string().url().default('http://localhost:6333'),
  // Sent as the api-key header. Never logged.
  QDRANT_API_KEY: z.string().optional(),
  QDRANT_TIMEOUT_SECS: integer(1, 3600).default(30),
  QDRANT_QUANTIZATION_TYPE: z.enum(['none', 'scalar', 'product']).default('none'),
  QDRANT_UPSERT_BATCH_SIZE: integer(1, 100_000).default(256),

  INFERENCE_PORT: integer(0, 65535).default(8090),
  INFERENCE_CUDA_ENABLED: boolean.default(false),
  INFERENCE_CUDA_DEVICE_ID: integer(0, 64).default(0),
  INFERENCE_PRELOAD_MODELS: modelList.default([]),
  // `*` serves any model found locally (or downloadable); unset serves the preloaded models only.
  INFERENCE_ALLOWED_MODELS: z.union([z.literal('*'), modelList]).optional(),
  INFERENCE_MODEL_PATH: z.string().min(1).optional(),
  INFERENCE_MAX_BATCH_SIZE: integer(1, 100_000).default(128),
  INFERENCE_BATCH_SIZE: integer(1, 4096).default(32),
  INFERENCE_MAX_QUEUE_DEPTH: integer(1, 10_000).default(8),
  INFERENCE_INTRA_OP_THREADS: integer(0, 1024).default(0),
  HF_HOME: z.string().min(1).default(join(homedir(), '.cache', 'huggingface')),
  HF_HUB_CACHE: z.string().min(1).optional(),
  // fetch rejects URLs with credentials; a mirror token belongs in HF_TOKEN.
  HF_ENDPOINT: z
    .string()
    .regex(/^https?:\/\/[^\s@/]+(\/[^\s]*)?$/, { message: 'expected an http:// or https:// URL without user:password@ (put a token in HF_TOKEN)' })
    .optional(),
  // Sensitive: never logged.
  HF_TOKEN: z.string().optional(),
  HF_HUB_OFFLINE: boolean.default(false),
  INFERENCE_DOWNLOAD_TIMEOUT_SECS: integer(1, 86_400).default(3600),

  EXTRACTION_TIMEOUT_SECS: integer(1, 3600).default(120),
  // Sensitive: never logged. Checked again by SecretBox when the application starts.
  ENCRYPTION_MASTER_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, { message: 'expected 64 hexadecimal characters; generate one with `openssl rand -hex 32`' })
    .optional(),
  EMBEDDING_INFERENCE_API_URL: z.string().url().optional(),
  MAX_CHUNKS_PER_FILE: integer(1, 10_000_000).default(100_000),
  STUCK_BATCH_THRESHOLD_HOURS: z.coerce.number().positive().max(720).default(2),
  ARCHIVE_MAX_TOTAL_MB: integer(1, 102_400).default(500),
  ARCHIVE_MAX_ENTRIES: integer(1, 1_000_000).default(10_000),
  ARCHIVE_MAX_DEPTH: integer(0, 10).default(3),
  ARCHIVE_MAX_COMPRESSION_RATIO: integer(1, 100_000).default(200),
  DATASET_SCANNER_MAX_CHUNKS_PER_SCAN: integer(1, 1_000_000).default(20_000),
});

export type Environment = z.infer<typeof environmentSchema>;

// Values that configuration errors must never print, because start-up errors end up in logs.
const SECRET_VARIABLES = new Set([
  'ENCRYPTION_MASTER_KEY',
  'NEW_ENCRYPTION_MASTER_KEY',
  'QDRANT_API_KEY',
  'AWS_SECRET_ACCESS_KEY',
  'HF_TOKEN',
  'DATABASE_URL',
]);

export class ServerConfig {
  serviceName: string;
  hostname: string;
  port: number;
  healthCheckPort: number;
  shutdownTimeoutSecs: number;
  /** Largest JSON request body accepted, in MiB. */
  maxJsonBodyMb: number;
  logFormat: 'json' | 'pretty';
  logLevel: string;
}

export class DatabaseConfig {
  url: string;
  maxConnections: number;
  minConnections: number;
  acquireTimeoutSecs: number;
  idleTimeoutSecs: number;
  maxLifetimeSecs: number;
  runMigrations: boolean;
  statementTimeoutSecs: number;
}

export class NatsConfig {
  url: string;
  /** Start-up fails when NATS stays unreachable this long. */
  connectTimeoutSecs: number;
  replicas: number;
  streamPrefix: string;
  maxConcurrentJobs: number;
  processingTimeoutSecs: number;
  retryBackoffSecs: number[];
  stallThresholdSecs: number;
}

export class StorageConfig {
  backend: 'filesystem' | 's3';
  dataDir: string;
  s3?: {
    endpoint?: string;
    region: string;
    bucket: string;
    accessKeyId?: string;
    secretAccessKey?: string;
    forcePathStyle: boolean;
  };
  maxFileBytes: number;
  maxUploadBytes: number;
}

export class QdrantConfig {
  url: string;
  /** Secret: never log it. */
  apiKey?: string;
  timeoutSecs: number;
  /** Quantization of new collections: scalar is int8, product is x16 compression. */
  quantization: 'none' | 'scalar' | 'product';
  /** Points sent per upsert request. */
  upsertBatchSize: number;
}

export class SecurityConfig {
  /** 64 hexadecimal characters, or undefined when API keys cannot be stored. */
  encryptionMasterKey?: string;
}

export class PipelineConfig {
  /** Base URL of the inference role, used by embedders of provider `internal`. */
  inferenceUrl: string;
  vectorStore: 'postgres' | 'qdrant';
  qdrant: QdrantConfig;
  extractionTimeoutSecs: number;
  /** A batch `processing` for longer is taken to be lost with its worker and dispatched again. */
  stuckBatchThresholdHours: number;
  /** A file that would produce more chunks fails, instead of filling the database. */
  maxChunksPerFile: number;
  /** Bounds on archives and attachments, so a zip bomb fails fast. */
  containerLimits: ContainerLimits;
  reconciliationIntervalSecs: number;
  maxChunksPerScan: number;
}

export class InferenceConfig {
  /** Port of a process that runs the inference role alone; other processes serve it on PORT. */
  port: number;
  cudaEnabled: boolean;
  cudaDeviceId: number;
  preloadModels: string[];
  /** Model ids this process may load, or '*' for any. */
  allowedModels: string[] | '*';
  /** Folder with one sub-folder per model id (`org/name`), searched before the hub cache. */
  modelPath?: string;
  /** Hugging Face hub cache (`models--org--name/snapshots/...`). */
  hubCacheDir: string;
  /** Plain folders `HF_HOME/org/name` are accepted too. */
  hfHome: string;
  /** Set only when downloads are allowed: HF_ENDPOINT is set and HF_HUB_OFFLINE is not. */
  downloadEndpoint?: string;
  /** Secret: never log it. */
  hfToken?: string;
  /** Deadline for downloading all files of one model. */
  downloadTimeoutSecs: number;
  /** Texts accepted in one request. */
  maxRequestBatch: number;
  /** Texts passed to one `session.run`. */
  runBatchSize: number;
  /** Requests queued or running per model; more get 429. */
  maxQueueDepth: number;
  /** ONNX Runtime intra-op threads; 0 lets the runtime choose. */
  intraOpThreads: number;
}

export class AppConfig {
  roles: Role[];
  server: ServerConfig;
  database: DatabaseConfig;
  nats: NatsConfig;
  storage: StorageConfig;
  pipeline: PipelineConfig;
  security: SecurityConfig;
  inference: InferenceConfig;
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

/**
 * Validates the environment once and builds the typed configuration. Every invalid
 * variable is listed in one error, each with its name and what it accepts.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  // Empty strings count as unset, as they do in Helm templates and shell scripts.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const problems: string[] = [];

  const parsed = environmentSchema.safeParse(cleaned);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = issue.path.join('.');
      const value = cleaned[name];
      const printedValue = SECRET_VARIABLES.has(name) ? '(not shown: secret)' : `"${redactUrlCredentials(String(value))}"`;
      const state = value === undefined ? 'is missing' : `has invalid value ${printedValue}`;
      problems.push(`${name} ${state}: ${issue.message}`);
    }
  }

  let roles: Role[] = [];
  try {
    roles = parseRoles(cleaned.ROLE);
  } catch (error) {
    problems.push((error as Error).message);
  }

  if (!parsed.success || problems.length > 0) {
    throw new ConfigValidationError(problems);
  }
  const e = parsed.data;

  if (e.DB_MIN_CONNECTIONS > e.DB_MAX_CONNECTIONS) {
    problems.push(
      `DB_MIN_CONNECTIONS (${e.DB_MIN_CONNECTIONS}) must not exceed DB_MAX_CONNECTIONS (${e.DB_MAX_CONNECTIONS})`,
    );
  }
  if (!e.DATABASE_URL && rolesNeedPlatform(roles)) {
    problems.push('DATABASE_URL is missing: required by every role except inference');
  }
  if (e.INFERENCE_ALLOWED_MODELS === '*' && e.HF_ENDPOINT && !e.HF_HUB_OFFLINE) {
    problems.push(
      "INFERENCE_ALLOWED_MODELS='*' together with HF_ENDPOINT would let any client make the service download any repository; list the allowed models",
    );
  }
  if (Array.isArray(e.INFERENCE_ALLOWED_MODELS)) {
    const allowed = e.INFERENCE_ALLOWED_MODELS;
    const blocked = e.INFERENCE_PRELOAD_MODELS.filter((id) => !allowed.includes(id));
    if (blocked.length > 0) {
      problems.push(`INFERENCE_PRELOAD_MODELS names models missing from INFERENCE_ALLOWED_MODELS: ${blocked.join(', ')}`);
    }
  }
  if (e.STORAGE_BACKEND === 's3') {
    for (const name of ['AWS_REGION', 'S3_BUCKET_NAME'] as const) {
      if (!e[name]) problems.push(`${name} is missing: required when STORAGE_BACKEND=s3`);
    }
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);

  return {
    roles,
    server: {
      serviceName: e.SERVICE_NAME,
      hostname: e.HOSTNAME,
      port: e.PORT,
      healthCheckPort: e.HEALTH_CHECK_PORT,
      shutdownTimeoutSecs: e.SHUTDOWN_TIMEOUT_SECS,
      maxJsonBodyMb: e.HTTP_MAX_JSON_BODY_MB,
      logFormat: e.LOG_FORMAT,
      logLevel: e.LOG_LEVEL,
    },
    database: {
      url: e.DATABASE_URL ?? '',
      maxConnections: e.DB_MAX_CONNECTIONS,
      minConnections: e.DB_MIN_CONNECTIONS,
      acquireTimeoutSecs: e.DB_ACQUIRE_TIMEOUT_SECS,
      idleTimeoutSecs: e.DB_IDLE_TIMEOUT_SECS,
      maxLifetimeSecs: e.DB_MAX_LIFETIME_SECS,
      runMigrations: e.DB_RUN_MIGRATIONS,
      statementTimeoutSecs: e.DB_STATEMENT_TIMEOUT_SECS,
    },
    nats: {
      url: e.NATS_URL,
      connectTimeoutSecs: e.NATS_CONNECT_TIMEOUT_SECS,
      replicas: e.NATS_REPLICAS,
      streamPrefix: e.NATS_STREAM_PREFIX,
      maxConcurrentJobs: e.MAX_CONCURRENT_JOBS,
      processingTimeoutSecs: e.PROCESSING_TIMEOUT_SECS,
      retryBackoffSecs: e.JOB_RETRY_BACKOFF_SECS,
      stallThresholdSecs: e.STREAM_STALL_THRESHOLD_SECS,
    },
    storage: {
      backend: e.STORAGE_BACKEND,
      dataDir: e.DATA_DIR,
      s3:
        e.STORAGE_BACKEND === 's3'
          ? {
              endpoint: e.AWS_ENDPOINT_URL,
              region: e.AWS_REGION!,
              bucket: e.S3_BUCKET_NAME!,
              accessKeyId: e.AWS_ACCESS_KEY_ID,
              secretAccessKey: e.AWS_SECRET_ACCESS_KEY,
              forcePathStyle: e.S3_FORCE_PATH_STYLE,
            }
          : undefined,
      maxFileBytes: e.MAX_FILE_SIZE_MB * 1024 * 1024,
      maxUploadBytes: e.S3_MAX_UPLOAD_SIZE_BYTES,
    },
    security: { encryptionMasterKey: e.ENCRYPTION_MASTER_KEY },
    inference: {
      port: e.INFERENCE_PORT,
      cudaEnabled: e.INFERENCE_CUDA_ENABLED,
      cudaDeviceId: e.INFERENCE_CUDA_DEVICE_ID,
      preloadModels: e.INFERENCE_PRELOAD_MODELS,
      allowedModels: e.INFERENCE_ALLOWED_MODELS ?? e.INFERENCE_PRELOAD_MODELS,
      modelPath: e.INFERENCE_MODEL_PATH,
      hubCacheDir: e.HF_HUB_CACHE ?? join(e.HF_HOME, 'hub'),
      hfHome: e.HF_HOME,
      downloadEndpoint: e.HF_ENDPOINT && !e.HF_HUB_OFFLINE ? e.HF_ENDPOINT.replace(/\/+$/, '') : undefined,
      hfToken: e.HF_TOKEN,
      downloadTimeoutSecs: e.INFERENCE_DOWNLOAD_TIMEOUT_SECS,
      maxRequestBatch: e.INFERENCE_MAX_BATCH_SIZE,
      runBatchSize: e.INFERENCE_BATCH_SIZE,
      maxQueueDepth: e.INFERENCE_MAX_QUEUE_DEPTH,
      intraOpThreads: e.INFERENCE_INTRA_OP_THREADS,
    },
    pipeline: {
      inferenceUrl: e.EMBEDDING_INFERENCE_API_URL ?? defaultInferenceUrl(roles, e.PORT),
      vectorStore: e.VECTOR_STORE,
      qdrant: {
        url: e.QDRANT_URL,
        apiKey: e.QDRANT_API_KEY,
        timeoutSecs: e.QDRANT_TIMEOUT_SECS,
        quantization: e.QDRANT_QUANTIZATION_TYPE,
        upsertBatchSize: e.QDRANT_UPSERT_BATCH_SIZE,
      },
      extractionTimeoutSecs: e.EXTRACTION_TIMEOUT_SECS,
      maxChunksPerFile: e.MAX_CHUNKS_PER_FILE,
      stuckBatchThresholdHours: e.STUCK_BATCH_THRESHOLD_HOURS,
      containerLimits: {
        maxTotalBytes: e.ARCHIVE_MAX_TOTAL_MB * 1024 * 1024,
        maxEntries: e.ARCHIVE_MAX_ENTRIES,
        maxDepth: e.ARCHIVE_MAX_DEPTH,
        maxCompressionRatio: e.ARCHIVE_MAX_COMPRESSION_RATIO,
      },
      reconciliationIntervalSecs: e.RECONCILIATION_INTERVAL_SECS,
      maxChunksPerScan: e.DATASET_SCANNER_MAX_CHUNKS_PER_SCAN,
    },
  };
}

/**
 * Returns the default URL of the inference role. A process that runs it beside other roles
 * serves it on its own PORT, so its `internal` embedders call that port. Otherwise the
 * inference role is a separate service on its default port.
 */
function defaultInferenceUrl(roles: Role[], port: number): string {
  return roles.includes('inference') && roles.length > 1 && port !== 0 ? `http://127.0.0.1:${port}` : 'http://localhost:8090';
}

/** Replaces the password of every `scheme://user:password@` in `text`, for messages and logs. */
export function redactUrlCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]*@/gi, '$1:***@');
}

/** Returns whether a process with these roles needs Postgres, NATS, blob and vector storage. */
export function rolesNeedPlatform(roles: Role[]): boolean {
  return roles.some((role) => role !== 'inference');
}
