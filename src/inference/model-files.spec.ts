import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from 'src/common/app-error';
import { describeModel, locateModel } from 'src/inference/model-files';

const COMMIT = 'a'.repeat(40);

async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, JSON.stringify(value));
}

/** Writes the minimum of a model folder: a tokenizer file and an ONNX file. */
async function writeMinimalFolder(dir: string): Promise<void> {
  await writeJson(join(dir, 'tokenizer.json'), { model: { type: 'WordPiece', vocab: {} } });
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await writeFile(join(dir, 'onnx', 'model.onnx'), 'graph');
}

async function writePooling(dir: string, flags: Record<string, boolean>, path = '1_Pooling'): Promise<void> {
  await writeJson(join(dir, 'modules.json'), [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path, type: 'sentence_transformers.models.Pooling' },
  ]);
  await writeJson(join(dir, '1_Pooling', 'config.json'), flags);
}

async function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  return error instanceof AppError ? error.code : undefined;
}

describe('describeModel', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'model-files-'));
    await writeMinimalFolder(dir);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('assumes mean pooling without modules.json', async () => {
    const descriptor = await describeModel('org/plain', dir);
    expect(descriptor).toMatchObject({ kind: 'embedding', pooling: 'mean', normalize: true, assumedPipeline: true, maxLength: 512 });
  });

  it('reads CLS pooling and normalisation', async () => {
    await writePooling(dir, { pooling_mode_cls_token: true, pooling_mode_mean_tokens: false });
    const modules = [
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
    ];
    await writeJson(join(dir, 'modules.json'), modules);
    const descriptor = await describeModel('org/bge', dir);
    expect(descriptor).toMatchObject({ pooling: 'cls', normalize: true, assumedPipeline: false });
  });

  it('rejects several pooling modes', async () => {
    await writePooling(dir, { pooling_mode_cls_token: true, pooling_mode_mean_tokens: true });
    expect(await errorCode(describeModel('org/multi', dir))).toBe('model_pooling_unsupported');
  });

  it('rejects a Dense module', async () => {
    await writeJson(join(dir, 'modules.json'), [{ idx: 0, name: '0', path: '2_Dense', type: 'sentence_transformers.models.Dense' }]);
    expect(await errorCode(describeModel('org/dense', dir))).toBe('model_module_unsupported');
  });

  it('rejects a Pooling path outside the folder', async () => {
    await writePooling(dir, { pooling_mode_mean_tokens: true }, '../../outside');
    expect(await errorCode(describeModel('org/escape', dir))).toBe('model_config_invalid');
  });

  it('caps the token limit at the position table', async () => {
    await writeJson(join(dir, 'sentence_bert_config.json'), { max_seq_length: 4096 });
    await writeJson(join(dir, 'config.json'), { max_position_embeddings: 512 });
    expect((await describeModel('org/capped', dir)).maxLength).toBe(512);
  });

  it('caps a huge token limit without a position table', async () => {
    await writeJson(join(dir, 'sentence_bert_config.json'), { max_seq_length: 1e12 });
    expect((await describeModel('org/huge', dir)).maxLength).toBe(8192);
  });

  it('detects a cross-encoder from its architecture', async () => {
    await writeJson(join(dir, 'config.json'), { architectures: ['XLMRobertaForSequenceClassification'] });
    expect((await describeModel('org/reranker', dir)).kind).toBe('reranker');
  });

  it('reads prompts for query and document inputs', async () => {
    await writeJson(join(dir, 'config_sentence_transformers.json'), { prompts: { query: 'query: ', document: 'passage: ', bad: 3 } });
    expect((await describeModel('org/e5', dir)).prompts).toEqual({ query: 'query: ', document: 'passage: ' });
  });

  it('names a broken JSON file', async () => {
    await writeFile(join(dir, 'config.json'), '{ not json');
    await expect(describeModel('org/broken', dir)).rejects.toThrow('config.json is not valid JSON');
  });

  it('requires an ONNX graph', async () => {
    await rm(join(dir, 'onnx'), { recursive: true });
    expect(await errorCode(describeModel('org/no-graph', dir))).toBe('model_onnx_missing');
  });
});

describe('locateModel', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'model-locate-'));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const paths = () => ({ modelPath: join(root, 'models'), hubCacheDir: join(root, 'hf', 'hub'), hfHome: join(root, 'hf') });

  it('prefers INFERENCE_MODEL_PATH over the hub cache', async () => {
    await writeMinimalFolder(join(root, 'models', 'org', 'name'));
    await writeMinimalFolder(join(root, 'hf', 'hub', 'models--org--name', 'snapshots', COMMIT));
    expect(await locateModel('org/name', paths())).toBe(join(root, 'models', 'org', 'name'));
  });

  it('follows refs/main in the hub cache', async () => {
    const other = 'b'.repeat(40);
    await writeMinimalFolder(join(root, 'hf', 'hub', 'models--org--name', 'snapshots', COMMIT));
    await writeMinimalFolder(join(root, 'hf', 'hub', 'models--org--name', 'snapshots', other));
    await mkdir(join(root, 'hf', 'hub', 'models--org--name', 'refs'), { recursive: true });
    await writeFile(join(root, 'hf', 'hub', 'models--org--name', 'refs', 'main'), other);
    expect(await locateModel('org/name', paths())).toBe(join(root, 'hf', 'hub', 'models--org--name', 'snapshots', other));
  });

  it('ignores a refs/main that is not a commit id', async () => {
    await writeMinimalFolder(join(root, 'outside'));
    await mkdir(join(root, 'hf', 'hub', 'models--org--name', 'refs'), { recursive: true });
    await writeFile(join(root, 'hf', 'hub', 'models--org--name', 'refs', 'main'), '../../../../outside');
    expect(await locateModel('org/name', paths())).toBeUndefined();
  });

  it('finds a plain folder under HF_HOME', async () => {
    await writeMinimalFolder(join(root, 'hf', 'org', 'name'));
    expect(await locateModel('org/name', paths())).toBe(join(root, 'hf', 'org', 'name'));
  });

  it('skips a folder without tokenizer.json', async () => {
    await mkdir(join(root, 'models', 'org', 'name', 'onnx'), { recursive: true });
    expect(await locateModel('org/name', paths())).toBeUndefined();
  });
});
