import { access, readFile, readdir } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { InvalidInputError } from 'src/common/app-error';
import { isRecord } from 'src/common/is-record';

export type ModelKind = 'embedding' | 'reranker';

/** Pooling modes of sentence-transformers' Pooling module that this role implements. */
export type PoolingMode = 'cls' | 'mean' | 'max' | 'mean_sqrt_len' | 'lasttoken';

/** Facts about one model folder that the inference role needs before it loads it. */
export interface ModelDescriptor {
  id: string;
  dir: string;
  kind: ModelKind;
  onnxFile: string;
  /** Embedding models only. */
  pooling: PoolingMode;
  normalize: boolean;
  /** Tokens per input, special tokens included; longer inputs are truncated. */
  maxLength: number;
  /** Prompt prefixes by input type (`query`, `document`), from `config_sentence_transformers.json`. */
  prompts: Record<string, string>;
  /** Hidden size from `config.json`, when the folder states one. */
  hiddenSize?: number;
  /** True when the folder has no `modules.json`, so mean pooling and normalisation were assumed. */
  assumedPipeline: boolean;
}

export interface ModelSearchPaths {
  /** Plain folders `modelPath/org/name`, searched first. */
  modelPath?: string;
  /** Hugging Face hub cache: `hubCacheDir/models--org--name/snapshots/<commit>`. */
  hubCacheDir: string;
  /** Plain folders `hfHome/org/name`, searched last. */
  hfHome: string;
}

// Paths of the full-precision graph in exports by optimum and sentence-transformers' ONNX backend.
const ONNX_CANDIDATES = ['onnx/model.onnx', 'model.onnx'];
const COMMIT_ID = /^[0-9a-f]{40}$/;
// The longest common encoders (BGE-M3, nomic-embed, jina-embeddings-v2) take 8192 tokens.
// A config that claims more is capped, because one such input would hold the event loop
// for seconds while it is tokenized and allocate gigabytes in the attention layers.
// Limitation: models with a longer context are used with 8192 tokens only.
const MAX_SUPPORTED_TOKENS = 8192;

/** Returns the folder of `modelId`, or undefined when no search path contains it. */
export async function locateModel(modelId: string, paths: ModelSearchPaths): Promise<string | undefined> {
  if (paths.modelPath && (await isModelFolder(join(paths.modelPath, modelId)))) {
    return join(paths.modelPath, modelId);
  }
  const snapshot = await locateHubSnapshot(modelId, paths.hubCacheDir);
  if (snapshot) return snapshot;
  if (await isModelFolder(join(paths.hfHome, modelId))) return join(paths.hfHome, modelId);
  return undefined;
}

/** Returns a folder named after `modelId` that lacks `tokenizer.json`, to explain a failed lookup. */
export async function findIncompleteFolder(modelId: string, paths: ModelSearchPaths): Promise<string | undefined> {
  const candidates = [paths.modelPath && join(paths.modelPath, modelId), join(paths.hfHome, modelId)].filter(
    (dir): dir is string => Boolean(dir),
  );
  for (const dir of candidates) {
    if (await fileExists(dir)) return dir;
  }
  return undefined;
}

/** Returns the hub cache's folder name for a model repository. */
export function hubRepoFolder(modelId: string): string {
  return `models--${modelId.replace(/\//g, '--')}`;
}

/**
 * Finds the snapshot that `refs/main` points to. Caches filled by tools that fetch one
 * commit without writing refs hold a single snapshot, which is used then.
 */
async function locateHubSnapshot(modelId: string, hubCacheDir: string): Promise<string | undefined> {
  const repoDir = join(hubCacheDir, hubRepoFolder(modelId));
  // refs/main is read as a commit id only: anything else could point the lookup outside the cache.
  const commit = (await readOptionalText(join(repoDir, 'refs', 'main')))?.trim();
  if (commit && COMMIT_ID.test(commit) && (await isModelFolder(join(repoDir, 'snapshots', commit)))) {
    return join(repoDir, 'snapshots', commit);
  }
  const snapshots = (await readdir(join(repoDir, 'snapshots')).catch(() => [] as string[])).filter((name) => COMMIT_ID.test(name));
  if (snapshots.length === 1 && (await isModelFolder(join(repoDir, 'snapshots', snapshots[0])))) {
    return join(repoDir, 'snapshots', snapshots[0]);
  }
  return undefined;
}

async function isModelFolder(dir: string): Promise<boolean> {
  return fileExists(join(dir, 'tokenizer.json'));
}

/**
 * Reads the configuration files of a model folder: the kind from `modules.json` and
 * `config.json`, pooling and normalisation from the sentence-transformers modules, the input
 * limit from `sentence_bert_config.json` or the tokenizer, and the ONNX file to run.
 */
export async function describeModel(modelId: string, dir: string): Promise<ModelDescriptor> {
  const config = await readOptionalJson(dir, 'config.json');
  const modules = await readOptionalJson(dir, 'modules.json');
  const tokenizerConfig = await readOptionalJson(dir, 'tokenizer_config.json');
  const sentenceConfig = await readOptionalJson(dir, 'sentence_bert_config.json');
  const sentenceTransformersConfig = await readOptionalJson(dir, 'config_sentence_transformers.json');

  const onnxFile = await findOnnxFile(modelId, dir);
  const architectures = Array.isArray(config?.architectures) ? (config.architectures as unknown[]).map(String) : [];
  const kind: ModelKind =
    !Array.isArray(modules) && architectures.some((name) => name.endsWith('ForSequenceClassification'))
      ? 'reranker'
      : 'embedding';

  const { pooling, normalize } =
    kind === 'embedding' ? await readPipeline(modelId, dir, modules) : { pooling: 'cls' as PoolingMode, normalize: false };

  const positions = positiveNumber(config?.max_position_embeddings);
  const declaredLength =
    positiveNumber(sentenceConfig?.max_seq_length) ?? sensibleTokenizerLimit(tokenizerConfig?.model_max_length) ?? positions ?? 512;
  const maxLength = Math.min(declaredLength, positions ?? MAX_SUPPORTED_TOKENS, MAX_SUPPORTED_TOKENS);

  const prompts = isRecord(sentenceTransformersConfig?.prompts)
    ? Object.fromEntries(
        Object.entries(sentenceTransformersConfig.prompts).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      )
    : {};

  return {
    id: modelId,
    dir,
    kind,
    onnxFile,
    pooling,
    normalize,
    maxLength,
    prompts,
    hiddenSize: positiveNumber(config?.hidden_size),
    assumedPipeline: kind === 'embedding' && !Array.isArray(modules),
  };
}

async function findOnnxFile(modelId: string, dir: string): Promise<string> {
  for (const candidate of ONNX_CANDIDATES) {
    if (await fileExists(join(dir, candidate))) return join(dir, candidate);
  }
  throw new InvalidInputError(
    'model_onnx_missing',
    `Model ${modelId} has no ONNX graph: expected ${ONNX_CANDIDATES.join(' or ')} in ${dir}. Export it with optimum or sentence-transformers' ONNX backend.`,
    { model: modelId },
  );
}

/**
 * Reads pooling and normalisation from the sentence-transformers modules. A folder without
 * `modules.json` gets mean pooling with normalisation, the most common setting.
 */
async function readPipeline(
  modelId: string,
  dir: string,
  modules: unknown,
): Promise<{ pooling: PoolingMode; normalize: boolean }> {
  if (!Array.isArray(modules)) return { pooling: 'mean', normalize: true };

  const types = modules.filter(isRecord).map((module) => ({ type: String(module.type ?? ''), path: String(module.path ?? '') }));
  // Limitation: Dense and other projection modules are not applied, so models that need them are rejected.
  const unsupported = types.filter((module) => !/\.(Transformer|Pooling|Normalize)$/.test(module.type));
  if (unsupported.length > 0) {
    throw new InvalidInputError(
      'model_module_unsupported',
      `Model ${modelId} uses sentence-transformers modules this inference role cannot run: ${unsupported.map((module) => module.type).join(', ')}`,
      { model: modelId },
    );
  }

  const poolingModule = types.find((module) => module.type.endsWith('.Pooling'));
  const normalize = types.some((module) => module.type.endsWith('.Normalize'));
  if (!poolingModule) return { pooling: 'cls', normalize };

  // Module paths come with the model (from a hub, perhaps), so they must stay inside its folder.
  if (isAbsolute(poolingModule.path) || poolingModule.path.split(/[\\/]/).includes('..')) {
    throw new InvalidInputError('model_config_invalid', `Model ${modelId} has a Pooling module path outside its folder: ${poolingModule.path}`, {
      model: modelId,
    });
  }
  const poolingConfig = await readOptionalJson(dir, join(poolingModule.path, 'config.json'));
  return { pooling: readPoolingMode(modelId, poolingConfig), normalize };
}

const POOLING_FLAGS: Array<[string, PoolingMode]> = [
  ['pooling_mode_cls_token', 'cls'],
  ['pooling_mode_mean_tokens', 'mean'],
  ['pooling_mode_max_tokens', 'max'],
  ['pooling_mode_mean_sqrt_len_tokens', 'mean_sqrt_len'],
  ['pooling_mode_lasttoken', 'lasttoken'],
];

function readPoolingMode(modelId: string, config: Record<string, unknown> | undefined): PoolingMode {
  if (!config) return 'mean';
  const enabled = POOLING_FLAGS.filter(([flag]) => config[flag] === true).map(([, mode]) => mode);
  if (enabled.length === 1) return enabled[0];
  if (enabled.length === 0) {
    throw new InvalidInputError('model_pooling_unsupported', `Model ${modelId} enables no pooling mode this role supports`, {
      model: modelId,
    });
  }
  // Limitation: sentence-transformers concatenates several enabled modes; that is not implemented.
  throw new InvalidInputError(
    'model_pooling_unsupported',
    `Model ${modelId} enables several pooling modes (${enabled.join(', ')}); only one is supported`,
    { model: modelId },
  );
}

/** Tokenizer configs without a limit store a huge sentinel (about 1e30) instead. */
function sensibleTokenizerLimit(value: unknown): number | undefined {
  const limit = positiveNumber(value);
  return limit !== undefined && limit <= 1_000_000 ? limit : undefined;
}

function positiveNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : undefined;
}

async function fileExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function readOptionalText(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

/** Parses a JSON file of the model folder; a missing file is undefined, a broken one an error naming it. */
export async function readOptionalJson(dir: string, name: string): Promise<any> {
  const text = await readOptionalText(join(dir, name));
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError('model_config_invalid', `${join(dir, name)} is not valid JSON: ${(error as Error).message}`, {
      file: name,
    });
  }
}
