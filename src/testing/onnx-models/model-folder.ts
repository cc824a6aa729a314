import { cp, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  BiEncoderModel,
  CrossEncoderModel,
  buildBiEncoderModel,
  buildCrossEncoderModel,
} from 'src/testing/onnx-models/tiny-models';
import { WordPieceTokenizerFiles, buildWordPieceTokenizer } from 'src/testing/onnx-models/tiny-tokenizer';

/*
 * Model folders laid out like Hugging Face sentence-transformers repositories, and the hub cache
 * layout that downloads land in.
 */

/** Commit hash used for hub cache snapshots when a test does not choose one. */
export const DEFAULT_SNAPSHOT_REVISION = '0123456789abcdef0123456789abcdef01234567';

/** Settings of a sentence-transformers embedding folder, whichever ONNX graph it contains. */
export interface EmbeddingFolderOptions {
  pooling: 'cls' | 'mean' | 'max';
  normalize: boolean;
  maxSeqLength: number;
  prompts?: Record<string, string>;
  vocabWords: string[];
  hidden: number;
  /** Model path inside the folder; defaults to `onnx/model.onnx`. */
  onnxPath?: string;
}

export interface BiEncoderFolderOptions extends EmbeddingFolderOptions {
  seed?: number;
}

export interface OnnxEmbeddingFolderOptions extends EmbeddingFolderOptions {
  /** Serialized ONNX graph with the BERT inputs and a `last_hidden_state` of `hidden` units. */
  onnxBytes: Uint8Array;
  /** Rows of the graph's token embedding table, written as `vocab_size` to `config.json`. */
  vocabSize: number;
}

export interface CrossEncoderFolderOptions {
  vocabWords: string[];
  hidden: number;
  /** `model_max_length` of the tokenizer; defaults to 512. */
  maxLength?: number;
  seed?: number;
}

/** BERT's position table size, which the config files report even though the tiny models have no positions. */
const MAX_POSITION_EMBEDDINGS = 512;

async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

async function writeTokenizerFiles(dir: string, tokenizer: WordPieceTokenizerFiles, modelMaxLength: number): Promise<void> {
  await writeJson(join(dir, 'tokenizer.json'), tokenizer.tokenizerJson);
  await writeJson(join(dir, 'tokenizer_config.json'), { ...tokenizer.tokenizerConfig, model_max_length: modelMaxLength });
  await writeJson(join(dir, 'special_tokens_map.json'), tokenizer.specialTokensMap);
}

async function writeOnnxModel(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}

/**
 * Writes a sentence-transformers embedding model folder around a tiny bi-encoder: Transformer,
 * Pooling and optional Normalize modules, tokenizer files and the ONNX model.
 * Returns the model weights and the tokenizer vocabulary so tests can compute expected embeddings.
 */
export async function writeBiEncoderFolder(
  dir: string,
  options: BiEncoderFolderOptions,
): Promise<BiEncoderModel & { vocab: Map<string, number> }> {
  const tokenizer = buildWordPieceTokenizer({ words: options.vocabWords });
  const model = buildBiEncoderModel({ vocabSize: tokenizer.vocab.size, hidden: options.hidden, seed: options.seed });
  await writeEmbeddingFolderFiles(dir, options, tokenizer, { bytes: model.bytes, vocabSize: tokenizer.vocab.size });
  return { ...model, vocab: tokenizer.vocab };
}

/**
 * Writes the same folder layout as `writeBiEncoderFolder` around a supplied ONNX graph, such as
 * one from `buildTransformerEncoderModel`. The tokenizer is built from `vocabWords`, and its ids
 * must stay below `vocabSize`, because the graph gathers token embeddings by id. `config.json`
 * always states 512 positions, so a graph with a smaller position table needs a `maxSeqLength`
 * that fits it. Returns the tokenizer vocabulary.
 */
export async function writeOnnxEmbeddingFolder(
  dir: string,
  options: OnnxEmbeddingFolderOptions,
): Promise<{ vocab: Map<string, number> }> {
  const tokenizer = buildWordPieceTokenizer({ words: options.vocabWords });
  if (tokenizer.vocab.size > options.vocabSize) {
    throw new Error(
      `invalid vocabSize ${options.vocabSize}: the tokenizer built from vocabWords has ${tokenizer.vocab.size} tokens. Pass fewer words or a larger vocabSize`,
    );
  }
  await writeEmbeddingFolderFiles(dir, options, tokenizer, { bytes: options.onnxBytes, vocabSize: options.vocabSize });
  return { vocab: tokenizer.vocab };
}

async function writeEmbeddingFolderFiles(
  dir: string,
  options: EmbeddingFolderOptions,
  tokenizer: WordPieceTokenizerFiles,
  model: { bytes: Uint8Array; vocabSize: number },
): Promise<void> {
  await writeJson(join(dir, 'config.json'), {
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_size: options.hidden,
    max_position_embeddings: MAX_POSITION_EMBEDDINGS,
    vocab_size: model.vocabSize,
  });

  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  if (options.normalize) {
    modules.push({ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' });
  }
  await writeJson(join(dir, 'modules.json'), modules);
  await writeJson(join(dir, '1_Pooling', 'config.json'), {
    word_embedding_dimension: options.hidden,
    pooling_mode_cls_token: options.pooling === 'cls',
    pooling_mode_mean_tokens: options.pooling === 'mean',
    pooling_mode_max_tokens: options.pooling === 'max',
    pooling_mode_mean_sqrt_len_tokens: false,
  });
  // No 2_Normalize folder: the Normalize module saves no files, so hub repositories lack it too.

  await writeJson(join(dir, 'sentence_bert_config.json'), { max_seq_length: options.maxSeqLength, do_lower_case: false });
  await writeJson(join(dir, 'config_sentence_transformers.json'), {
    prompts: options.prompts ?? {},
    default_prompt_name: null,
    similarity_fn_name: 'cosine',
  });
  await writeTokenizerFiles(dir, tokenizer, MAX_POSITION_EMBEDDINGS);
  await writeOnnxModel(join(dir, options.onnxPath ?? join('onnx', 'model.onnx')), model.bytes);
}

/**
 * Writes a cross-encoder (reranker) model folder around a tiny cross-encoder: a
 * BertForSequenceClassification config with one label, tokenizer files and `onnx/model.onnx`.
 */
export async function writeCrossEncoderFolder(
  dir: string,
  options: CrossEncoderFolderOptions,
): Promise<CrossEncoderModel & { vocab: Map<string, number> }> {
  const tokenizer = buildWordPieceTokenizer({ words: options.vocabWords });
  const model = buildCrossEncoderModel({ vocabSize: tokenizer.vocab.size, hidden: options.hidden, seed: options.seed });

  await writeJson(join(dir, 'config.json'), {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    hidden_size: options.hidden,
    num_labels: 1,
    id2label: { '0': 'LABEL_0' },
    max_position_embeddings: MAX_POSITION_EMBEDDINGS,
  });
  await writeTokenizerFiles(dir, tokenizer, options.maxLength ?? MAX_POSITION_EMBEDDINGS);
  await writeOnnxModel(join(dir, 'onnx', 'model.onnx'), model.bytes);

  return { ...model, vocab: tokenizer.vocab };
}

/**
 * Copies a model folder into the Hugging Face hub cache under `hfHome`, as
 * `hub/models--{org}--{name}/snapshots/{revision}/`, and points `refs/main` at the revision.
 * Real caches keep files in `blobs/` and symlink them from the snapshot, but readers accept plain copies.
 * Returns the snapshot folder.
 */
export async function writeHubCacheSnapshot(
  hfHome: string,
  repoId: string,
  sourceDir: string,
  revision: string = DEFAULT_SNAPSHOT_REVISION,
): Promise<string> {
  const parts = repoId.split('/');
  if (parts.length !== 2 || parts.some((part) => part.length === 0)) {
    throw new Error(`invalid repo id ${JSON.stringify(repoId)}: expected the form org/name`);
  }
  if (!/^[0-9a-f]{40}$/.test(revision)) {
    throw new Error(`invalid revision ${JSON.stringify(revision)}: expected a 40-character lowercase hex commit hash`);
  }

  const repoDir = join(hfHome, 'hub', `models--${parts[0]}--${parts[1]}`);
  const snapshotDir = join(repoDir, 'snapshots', revision);
  await mkdir(snapshotDir, { recursive: true });
  await cp(sourceDir, snapshotDir, { recursive: true });

  await mkdir(join(repoDir, 'refs'), { recursive: true });
  await writeFile(join(repoDir, 'refs', 'main'), revision);
  return snapshotDir;
}
