import { Tokenizer } from '@huggingface/tokenizers';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { writeBiEncoderFolder, writeCrossEncoderFolder, writeHubCacheSnapshot } from 'src/testing/onnx-models/model-folder';
import { createSeededRandom } from 'src/testing/onnx-models/onnx-graph';
import {
  buildBiEncoderModel,
  buildCrossEncoderModel,
  buildTransformerEncoderModel,
} from 'src/testing/onnx-models/tiny-models';
import { buildWordPieceTokenizer } from 'src/testing/onnx-models/tiny-tokenizer';

type Rows = number[][];

function int64Tensor(rows: Rows): Tensor {
  const data = BigInt64Array.from(rows.flat(), (value) => BigInt(value));
  return new Tensor('int64', data, [rows.length, rows[0].length]);
}

function bertFeeds(inputIds: Rows, attentionMask: Rows, tokenTypeIds: Rows): Record<string, Tensor> {
  return {
    input_ids: int64Tensor(inputIds),
    attention_mask: int64Tensor(attentionMask),
    token_type_ids: int64Tensor(tokenTypeIds),
  };
}

/** Hand-computed tokenEmbeddings[id] + typeEmbeddings[type] for one position. */
function embeddingAt(
  model: { tokenEmbeddings: Float32Array; typeEmbeddings: Float32Array },
  hidden: number,
  tokenId: number,
  typeId: number,
): number[] {
  return Array.from({ length: hidden }, (_, unit) => {
    return model.tokenEmbeddings[tokenId * hidden + unit] + model.typeEmbeddings[typeId * hidden + unit];
  });
}

describe('tiny ONNX test models', () => {
  const inputIds = [
    [2, 7, 9, 3],
    [2, 8, 3, 0],
  ];
  const attentionMask = [
    [1, 1, 1, 1],
    [1, 1, 1, 0],
  ];
  const tokenTypeIds = [
    [0, 0, 1, 1],
    [0, 1, 1, 0],
  ];

  describe('bi-encoder', () => {
    const hidden = 6;
    const model = buildBiEncoderModel({ vocabSize: 12, hidden, seed: 7 });

    it('outputs masked summed embeddings', async () => {
      const session = await InferenceSession.create(model.bytes);
      const output = await session.run(bertFeeds(inputIds, attentionMask, tokenTypeIds));
      const hiddenStates = output.last_hidden_state;

      expect(hiddenStates.dims).toEqual([2, 4, hidden]);
      const values = hiddenStates.data as Float32Array;
      inputIds.forEach((row, batch) => {
        row.forEach((tokenId, position) => {
          const expected = embeddingAt(model, hidden, tokenId, tokenTypeIds[batch][position]).map(
            (value) => value * attentionMask[batch][position],
          );
          const offset = (batch * row.length + position) * hidden;
          expected.forEach((value, unit) => expect(values[offset + unit]).toBeCloseTo(value, 5));
        });
      });
    });

    it('zeroes padded positions', async () => {
      const session = await InferenceSession.create(model.bytes);
      const output = await session.run(bertFeeds(inputIds, attentionMask, tokenTypeIds));
      const padded = (output.last_hidden_state.data as Float32Array).slice((4 + 3) * hidden, 8 * hidden);

      // Mul by a zero mask gives -0 for negative embeddings, which counts as zero here.
      expect(Array.from(padded, Math.abs)).toEqual(new Array(hidden).fill(0));
    });

    it('draws the same weights for the same seed', () => {
      const again = buildBiEncoderModel({ vocabSize: 12, hidden, seed: 7 });
      const other = buildBiEncoderModel({ vocabSize: 12, hidden, seed: 8 });

      expect(again.tokenEmbeddings).toEqual(model.tokenEmbeddings);
      expect(other.tokenEmbeddings).not.toEqual(model.tokenEmbeddings);
    });
  });

  describe('cross-encoder', () => {
    it('outputs the weighted masked mean', async () => {
      const hidden = 5;
      const model = buildCrossEncoderModel({ vocabSize: 12, hidden, seed: 3 });
      const session = await InferenceSession.create(model.bytes);
      const output = await session.run(bertFeeds(inputIds, attentionMask, tokenTypeIds));

      expect(output.logits.dims).toEqual([2, 1]);
      const logits = output.logits.data as Float32Array;
      inputIds.forEach((row, batch) => {
        const sum = new Array<number>(hidden).fill(0);
        let tokenCount = 0;
        row.forEach((tokenId, position) => {
          const mask = attentionMask[batch][position];
          embeddingAt(model, hidden, tokenId, tokenTypeIds[batch][position]).forEach((value, unit) => {
            sum[unit] += value * mask;
          });
          tokenCount += mask;
        });
        const expected = sum.reduce((score, value, unit) => score + (value / tokenCount) * model.weights[unit], model.bias);
        expect(logits[batch]).toBeCloseTo(expected, 5);
      });
    });
  });

  describe('transformer encoder', () => {
    const hidden = 32;
    const config = { layers: 2, hidden, heads: 4, intermediate: 64, vocabSize: 50, maxPositions: 16, seed: 11 };
    let session: InferenceSession;

    beforeAll(async () => {
      session = await InferenceSession.create(buildTransformerEncoderModel(config).bytes);
    });

    async function runEncoder(ids: Rows, mask: Rows): Promise<{ dims: readonly number[]; values: Float32Array }> {
      const types = ids.map((row) => row.map(() => 0));
      const output = await session.run(bertFeeds(ids, mask, types));
      return { dims: output.last_hidden_state.dims, values: output.last_hidden_state.data as Float32Array };
    }

    it('outputs finite hidden states', async () => {
      const { dims, values } = await runEncoder(inputIds, attentionMask);

      expect(dims).toEqual([2, 4, hidden]);
      expect(values.every((value) => Number.isFinite(value))).toBe(true);
      // The final LayerNormalization has zero shift, so each output vector has mean 0.
      const first = Array.from(values.subarray(0, hidden));
      const mean = first.reduce((total, value) => total + value, 0) / hidden;
      expect(mean).toBeCloseTo(0, 4);
    });

    it('ignores padded positions', async () => {
      const ids = [[2, 17, 23, 5, 3]];
      const unpadded = await runEncoder(ids, [[1, 1, 1, 1, 1]]);
      const padded = await runEncoder([[...ids[0], 0, 0, 0]], [[1, 1, 1, 1, 1, 0, 0, 0]]);

      expect(padded.dims).toEqual([1, 8, hidden]);
      const realPositions = padded.values.subarray(0, 5 * hidden);
      realPositions.forEach((value, index) => expect(Math.abs(value - unpadded.values[index])).toBeLessThan(1e-4));
    });

    it('ignores token ids at padded positions', async () => {
      const mask = [[1, 1, 1, 0, 0]];
      const withPadIds = await runEncoder([[2, 17, 3, 0, 0]], mask);
      const withOtherIds = await runEncoder([[2, 17, 3, 41, 9]], mask);

      const realPositions = withOtherIds.values.subarray(0, 3 * hidden);
      realPositions.forEach((value, index) => expect(Math.abs(value - withPadIds.values[index])).toBeLessThan(1e-4));
    });

    it('rejects hidden not divisible by heads', () => {
      expect(() => buildTransformerEncoderModel({ ...config, heads: 5 })).toThrow('not divisible by heads');
    });
  });

  describe('WordPiece tokenizer', () => {
    const files = buildWordPieceTokenizer({ words: ['hello', 'world', 'Search'] });
    const tokenizer = new Tokenizer(files.tokenizerJson, files.tokenizerConfig);
    const idOf = (token: string) => files.vocab.get(token)!;

    it('assigns the special token ids', () => {
      expect(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map(idOf)).toEqual([0, 1, 2, 3, 4]);
      expect(idOf('hello')).toBe(5);
      expect(idOf('search')).toBe(7);
    });

    it('encodes a sentence with word pieces', () => {
      const encoding = tokenizer.encode('Hello world, Qz9!');

      expect(encoding.ids).toEqual([
        idOf('[CLS]'),
        idOf('hello'),
        idOf('world'),
        idOf(','),
        idOf('q'),
        idOf('##z'),
        idOf('##9'),
        idOf('!'),
        idOf('[SEP]'),
      ]);
      expect(encoding.attention_mask).toEqual(new Array(9).fill(1));
    });

    it('encodes any ASCII text without [UNK]', () => {
      const printable = Array.from({ length: 95 }, (_, offset) => String.fromCharCode(32 + offset)).join('');
      const encoding = tokenizer.encode(`${printable} unknownword MixedCase 2024`);

      expect(encoding.ids).not.toContain(idOf('[UNK]'));
    });

    it('encodes a pair with token type ids', () => {
      const encoding = tokenizer.encode('hello world', { text_pair: 'search', return_token_type_ids: true });

      expect(encoding.ids).toEqual([2, idOf('hello'), idOf('world'), 3, idOf('search'), 3]);
      expect(encoding.token_type_ids).toEqual([0, 0, 0, 0, 1, 1]);
    });

    it('keeps capitals when lowercase is off', () => {
      const cased = buildWordPieceTokenizer({ words: ['Hello'], lowercase: false });
      const casedTokenizer = new Tokenizer(cased.tokenizerJson, cased.tokenizerConfig);

      expect(casedTokenizer.tokenize('Hello hello XY')).toEqual(['Hello', 'h', '##e', '##l', '##l', '##o', 'X', '##Y']);
    });

    it('rejects words with whitespace', () => {
      expect(() => buildWordPieceTokenizer({ words: ['two words'] })).toThrow('invalid vocabulary word');
    });
  });

  describe('model folders', () => {
    let root: string;

    beforeAll(() => {
      root = mkdtempSync(join(tmpdir(), 'onnx-models-'));
    });

    afterAll(() => {
      rmSync(root, { recursive: true, force: true });
    });

    const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

    it('writes a sentence-transformers bi-encoder folder', async () => {
      const dir = join(root, 'bi-encoder');
      const written = await writeBiEncoderFolder(dir, {
        pooling: 'mean',
        normalize: true,
        maxSeqLength: 128,
        prompts: { query: 'query: ' },
        vocabWords: ['alpha', 'beta'],
        hidden: 8,
      });

      expect(readJson(join(dir, 'config.json'))).toMatchObject({ hidden_size: 8, vocab_size: written.vocab.size });
      expect(readJson(join(dir, 'modules.json')).map((module: { path: string }) => module.path)).toEqual([
        '',
        '1_Pooling',
        '2_Normalize',
      ]);
      expect(readJson(join(dir, '1_Pooling', 'config.json'))).toMatchObject({
        word_embedding_dimension: 8,
        pooling_mode_cls_token: false,
        pooling_mode_mean_tokens: true,
        pooling_mode_max_tokens: false,
      });
      expect(readJson(join(dir, 'sentence_bert_config.json'))).toEqual({ max_seq_length: 128, do_lower_case: false });
      expect(readJson(join(dir, 'config_sentence_transformers.json')).prompts).toEqual({ query: 'query: ' });
      expect(existsSync(join(dir, 'special_tokens_map.json'))).toBe(true);

      const session = await InferenceSession.create(join(dir, 'onnx', 'model.onnx'));
      expect(session.outputNames).toEqual(['last_hidden_state']);

      const tokenizer = new Tokenizer(readJson(join(dir, 'tokenizer.json')), readJson(join(dir, 'tokenizer_config.json')));
      expect(tokenizer.encode('alpha beta').ids).toEqual([2, 5, 6, 3]);
    });

    it('writes the model to a custom ONNX path', async () => {
      const dir = join(root, 'custom-path');
      await writeBiEncoderFolder(dir, {
        pooling: 'cls',
        normalize: false,
        maxSeqLength: 64,
        vocabWords: [],
        hidden: 4,
        onnxPath: 'model_quantized.onnx',
      });

      expect(existsSync(join(dir, 'model_quantized.onnx'))).toBe(true);
      expect(existsSync(join(dir, 'onnx'))).toBe(false);
      expect(readJson(join(dir, 'modules.json'))).toHaveLength(2);
    });

    it('writes a cross-encoder folder', async () => {
      const dir = join(root, 'cross-encoder');
      await writeCrossEncoderFolder(dir, { vocabWords: ['query'], hidden: 4, maxLength: 256 });

      expect(readJson(join(dir, 'config.json'))).toMatchObject({ num_labels: 1, id2label: { '0': 'LABEL_0' } });
      expect(readJson(join(dir, 'tokenizer_config.json')).model_max_length).toBe(256);
      expect(existsSync(join(dir, 'modules.json'))).toBe(false);
      const session = await InferenceSession.create(join(dir, 'onnx', 'model.onnx'));
      expect(session.outputNames).toEqual(['logits']);
    });

    it('copies a folder into the hub cache layout', async () => {
      const source = join(root, 'hub-source');
      await writeCrossEncoderFolder(source, { vocabWords: [], hidden: 4 });
      const hfHome = join(root, 'hf-home');
      const revision = 'abcdef0123456789abcdef0123456789abcdef01';

      const snapshot = await writeHubCacheSnapshot(hfHome, 'acme/tiny-reranker', source, revision);

      const repoDir = join(hfHome, 'hub', 'models--acme--tiny-reranker');
      expect(snapshot).toBe(join(repoDir, 'snapshots', revision));
      expect(readFileSync(join(repoDir, 'refs', 'main'), 'utf8')).toBe(revision);
      expect(existsSync(join(snapshot, 'onnx', 'model.onnx'))).toBe(true);
      expect(existsSync(join(snapshot, 'tokenizer.json'))).toBe(true);
    });

    it('rejects a repo id without an org', async () => {
      await expect(writeHubCacheSnapshot(join(root, 'hf-bad'), 'tiny-reranker', root)).rejects.toThrow('invalid repo id');
    });
  });

  describe('seeded random', () => {
    it('repeats its sequence for a seed', () => {
      const first = createSeededRandom(5);
      const second = createSeededRandom(5);
      const values = Array.from({ length: 5 }, () => first());

      expect(Array.from({ length: 5 }, () => second())).toEqual(values);
      expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
    });
  });
});
