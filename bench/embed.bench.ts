/**
 * Measures embedding throughput on chunks of the test corpus and prints the figures. It asserts
 * nothing about them. Two paths are timed: the built-in hashing embedder, and the inference
 * role's ONNX path (InferenceService.embed) with a randomly initialised model of the shape of
 * all-MiniLM-L6-v2. Run it with `npm run bench:embed`. CORPUS_DIR sets another corpus folder,
 * BENCH_HASHING_CHUNKS (default 2000) and BENCH_ONNX_CHUNKS (default 320) the chunks embedded.
 */
import { Logger } from '@nestjs/common';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { env as onnxRuntime } from 'onnxruntime-node';

import { InferenceConfig } from 'src/config/app-config';
import { HashingEmbedder } from 'src/embedders/hashing/hashing.embedder';
import { InferenceService } from 'src/inference/inference.service';
import { ModelRegistry } from 'src/inference/model-registry.service';
import { CORPUS_DIR } from 'src/testing/corpus';
import { writeOnnxEmbeddingFolder } from 'src/testing/onnx-models/model-folder';
import { buildTransformerEncoderModel } from 'src/testing/onnx-models/tiny-models';
import { ChunkingConfig, chunkText } from 'src/workers/collections/chunking/chunk-text';
import { EPUB, HTML, MARKDOWN, PDF, PLAIN_TEXT, detectContentType } from 'src/workers/collections/extraction/content-type';
import { extractDocument } from 'src/workers/collections/extraction/extract-document';

const HASHING_CHUNKS = readCount('BENCH_HASHING_CHUNKS', 2000);
const ONNX_CHUNKS = readCount('BENCH_ONNX_CHUNKS', 320);
const MEGABYTE = 1024 * 1024;

// Only prose formats count, because the figures should describe running text rather than JSON
// rows or spreadsheet cells. MANIFEST.md describes the corpus files and is not one of the documents.
const PROSE_TYPES = [MARKDOWN, HTML, PLAIN_TEXT, EPUB, PDF];
const SKIPPED_FILES = ['MANIFEST.md'];
const CHUNKING: ChunkingConfig = { strategy: 'recursive_character', chunk_size: 1000, chunk_overlap: 100 };

// The shape of sentence-transformers/all-MiniLM-L6-v2.
const MINILM_L6 = { layers: 6, hidden: 384, heads: 12, intermediate: 1536, vocabSize: 30522, maxPositions: 512 };
const MAX_SEQ_LENGTH = 256;
const MODEL_ID = 'bench/minilm-l6-random';
// The defaults of INFERENCE_BATCH_SIZE and INFERENCE_INTRA_OP_THREADS, where 0 lets ONNX Runtime choose.
const RUN_BATCH_SIZE = 32;
const INTRA_OP_THREADS = 0;
// Ids that the test tokenizer gives to special tokens, characters and `##` continuations (109), rounded up.
const TOKENIZER_RESERVED_IDS = 200;

async function main(): Promise<void> {
  // The model registry logs each load at info level, which would interleave with the figures.
  Logger.overrideLogger(['warn', 'error']);
  printMachine();

  const chunks = await loadCorpusChunks();
  await benchmarkHashing(sampleChunks(chunks, HASHING_CHUNKS), chunks.length);
  await benchmarkOnnx(sampleChunks(chunks, ONNX_CHUNKS), collectWords(chunks));
}

function readCount(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  }
  return value;
}

function printMachine(): void {
  const cpus = os.cpus();
  console.log(`date: ${new Date().toISOString()}`);
  console.log(`machine: ${cpus.length} x ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB, ${os.platform()} ${os.release()}`);
  console.log(`node ${process.version}, onnxruntime-node ${onnxRuntime.versions.node ?? 'unknown'}, corpus ${CORPUS_DIR}\n`);
}

/** Extracts the prose documents of the corpus and chunks them as a collection would. */
async function loadCorpusChunks(): Promise<string[]> {
  const chunks: string[] = [];
  let documents = 0;
  const names = readdirSync(CORPUS_DIR)
    .filter((name) => !SKIPPED_FILES.includes(name))
    .sort();
  for (const name of names) {
    const data = readFileSync(path.join(CORPUS_DIR, name));
    const contentType = detectContentType(data.subarray(0, 8192), name);
    if (!PROSE_TYPES.includes(contentType)) continue;
    try {
      const document = await extractDocument(data, name, contentType);
      chunks.push(...chunkText(document.text, CHUNKING).map((chunk) => chunk.text));
      documents += 1;
    } catch (error) {
      const code = (error as { code?: unknown }).code ?? (error as Error).message;
      console.log(`skipped ${name}: ${String(code)}`);
    }
  }
  if (chunks.length === 0) {
    throw new Error(`no prose document in ${CORPUS_DIR} could be extracted; set CORPUS_DIR to the test corpus`);
  }

  const characters = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const settings = `${CHUNKING.strategy} ${CHUNKING.chunk_size}/${CHUNKING.chunk_overlap} chars`;
  console.log(`Corpus: ${documents} prose documents (${PROSE_TYPES.join(', ')}), ${chunks.length} chunks (${settings}), mean ${Math.round(characters / chunks.length)} characters\n`);
  return chunks;
}

/**
 * Picks `count` chunks at even intervals over all of them, so the sample spans the documents. When
 * `count` exceeds the chunks available, each chunk repeats, which is harmless because neither
 * embedder caches results.
 */
function sampleChunks(chunks: string[], count: number): string[] {
  return Array.from({ length: count }, (_, index) => chunks[Math.floor((index * chunks.length) / count)]);
}

/**
 * Returns the words of the chunks, most frequent first, split roughly as BERT's pre-tokenizer
 * does: lowercased, accents removed, cut at whitespace and punctuation.
 */
function collectWords(chunks: string[]): string[] {
  const counts = new Map<string, number>();
  for (const chunk of chunks) {
    const words = chunk.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().match(/[a-z0-9]+/g) ?? [];
    for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([word]) => word);
}

async function benchmarkHashing(texts: string[], distinct: number): Promise<void> {
  const embedder = new HashingEmbedder();
  // The first call is a warm-up and is not timed, so that V8 has optimised the code by the timed one.
  await embedder.embed(texts.slice(0, 100), 'document');

  const started = performance.now();
  await embedder.embed(texts, 'document');
  const seconds = (performance.now() - started) / 1000;

  const megabytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text, 'utf8'), 0) / MEGABYTE;
  console.log(`Hashing embedder: ${texts.length} chunks taken at even intervals from the ${distinct} corpus chunks, ${embedder.dimensions} dimensions`);
  console.log(`  ${(texts.length / seconds).toFixed(1)} chunks/s, ${(megabytes / seconds).toFixed(2)} MB/s (${seconds.toFixed(2)} s)\n`);
}

/**
 * Writes the model folder, loads it through the inference role's registry and times one
 * InferenceService.embed request over `texts`, split into time inside `session.run` and the rest.
 */
async function benchmarkOnnx(texts: string[], corpusWords: string[]): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'bench-embed-'));
  const config = Object.assign(new InferenceConfig(), {
    cudaEnabled: false,
    cudaDeviceId: 0,
    preloadModels: [],
    allowedModels: [MODEL_ID],
    modelPath: root,
    hubCacheDir: path.join(root, 'hub'),
    hfHome: root,
    maxRequestBatch: texts.length,
    runBatchSize: RUN_BATCH_SIZE,
    maxQueueDepth: 8,
    intraOpThreads: INTRA_OP_THREADS,
  });
  const registry = new ModelRegistry(config);
  try {
    const shape = MINILM_L6;
    console.log(
      `ONNX embedding model: random weights, shape of all-MiniLM-L6-v2 (${shape.layers} layers, hidden ${shape.hidden}, ${shape.heads} heads, intermediate ${shape.intermediate}, vocabulary ${shape.vocabSize}, ${shape.maxPositions} positions)`,
    );

    let started = performance.now();
    const { bytes } = buildTransformerEncoderModel(shape);
    const vocabWords = corpusWords.slice(0, shape.vocabSize - TOKENIZER_RESERVED_IDS);
    const { vocab } = await writeOnnxEmbeddingFolder(path.join(root, MODEL_ID), {
      pooling: 'mean',
      normalize: true,
      maxSeqLength: MAX_SEQ_LENGTH,
      vocabWords,
      hidden: shape.hidden,
      onnxBytes: bytes,
      vocabSize: shape.vocabSize,
    });
    const buildSeconds = (performance.now() - started) / 1000;

    started = performance.now();
    const { model } = await registry.embeddingModel(MODEL_ID);
    const loadSeconds = (performance.now() - started) / 1000;
    const { descriptor } = model;
    console.log(`  graph ${(bytes.length / MEGABYTE).toFixed(1)} MB, built and written in ${buildSeconds.toFixed(1)} s, loaded in ${loadSeconds.toFixed(1)} s`);
    console.log(
      `  ${model.device}, ${model.dimensions} dimensions, ${descriptor.pooling} pooling, ${descriptor.normalize ? 'normalized' : 'not normalized'}, at most ${descriptor.maxLength} tokens, batches of ${RUN_BATCH_SIZE}, intra-op threads ${INTRA_OP_THREADS || 'chosen by the runtime'}`,
    );
    console.log(`  WordPiece tokenizer with ${vocab.size} tokens: every corpus word is one token (a real vocabulary splits rare words into pieces)`);

    const service = new InferenceService(registry, config);
    // A warm-up request of two batches, not timed, lets ONNX Runtime allocate its buffers first.
    await service.embed(MODEL_ID, texts.slice(0, 2 * RUN_BATCH_SIZE), 'document');

    const runsBefore = model.clock.runs;
    const insideBefore = model.clock.milliseconds;
    started = performance.now();
    const result = await service.embed(MODEL_ID, texts, 'document');
    const totalSeconds = (performance.now() - started) / 1000;
    const runs = model.clock.runs - runsBefore;
    const insideSeconds = (model.clock.milliseconds - insideBefore) / 1000;
    const outsideSeconds = totalSeconds - insideSeconds;

    // Tokenizing again after the timed request, so that this pass cannot warm anything up for it.
    started = performance.now();
    const lengths = texts.map((text) => model.encode(text, 'document').input.ids.length);
    const tokenizeSeconds = (performance.now() - started) / 1000;
    const padded = paddedTokens(lengths, RUN_BATCH_SIZE);
    const tokens = lengths.reduce((sum, length) => sum + length, 0);

    console.log(
      `  input: ${texts.length} chunks taken at even intervals from the corpus chunks, mean ${(tokens / texts.length).toFixed(0)} tokens, ${result.truncated} truncated to ${descriptor.maxLength}, padding ${((100 * (padded - tokens)) / padded).toFixed(1)} % of the ${padded} tokens fed`,
    );
    console.log(`  end to end (InferenceService.embed): ${(texts.length / totalSeconds).toFixed(2)} chunks/s (${totalSeconds.toFixed(2)} s)`);
    console.log(`  time inside session.run: ${insideSeconds.toFixed(2)} s over ${runs} runs, ${((1000 * insideSeconds) / runs).toFixed(0)} ms per run`);
    console.log(`  time outside session.run: ${outsideSeconds.toFixed(3)} s, ${(outsideSeconds / insideSeconds).toFixed(3)} x the session.run time`);
    console.log(`  of that, tokenizing alone (timed in a separate pass): ${tokenizeSeconds.toFixed(3)} s`);
  } finally {
    await registry.onApplicationShutdown();
    await rm(root, { recursive: true, force: true });
  }
}

/** Counts the tokens of the padded batches, which InferenceService.embed forms by sorting inputs by length. */
function paddedTokens(lengths: number[], batchSize: number): number {
  const sorted = [...lengths].sort((a, b) => a - b);
  let total = 0;
  for (let start = 0; start < sorted.length; start += batchSize) {
    const batch = sorted.slice(start, start + batchSize);
    total += batch.length * batch[batch.length - 1];
  }
  return total;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
