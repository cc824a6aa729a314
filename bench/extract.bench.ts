/**
 * Measures PDF extraction and chunking throughput on the test corpus and prints the figures.
 * It asserts nothing about them. Run it with `npm run bench:extract`. CORPUS_DIR sets another
 * corpus folder, and BENCH_ROUNDS (default 5) the number of timed rounds.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { HashingEmbedder } from 'src/embedders/hashing/hashing.embedder';
import { CORPUS_DIR } from 'src/testing/corpus';
import { ChunkingConfig, chunkDocument } from 'src/workers/collections/chunking/chunk-text';
import { extractDocument } from 'src/workers/collections/extraction/extract-document';

const run = promisify(execFile);
const MEGABYTE = 1024 * 1024;
const ROUNDS = Number.parseInt(process.env.BENCH_ROUNDS ?? '5', 10);
const EMBEDDER_ID = '00000000-0000-4000-8000-000000000000';

interface PdfFile {
  name: string;
  data: Buffer;
  pages: number;
}

interface Throughput {
  seconds: number;
  pages: number;
  bytes: number;
}

async function main(): Promise<void> {
  if (!Number.isInteger(ROUNDS) || ROUNDS < 1) {
    throw new Error(`BENCH_ROUNDS must be a positive integer, got ${process.env.BENCH_ROUNDS}`);
  }
  const poppler = await run('pdftotext', ['-v']).then(
    (result) => (result.stderr || result.stdout).split('\n')[0],
    (error: NodeJS.ErrnoException) => {
      throw new Error(`pdftotext is not installed or failed (${error.message}). Install poppler-utils to run this benchmark.`);
    },
  );
  printMachine(poppler);

  const { files, texts } = await loadPdfs();
  await benchmarkExtraction(files);
  await benchmarkChunking([...texts, readFileSync(path.join(CORPUS_DIR, 'md-pdfplumber-readme-tables-code.md'), 'utf8')].join('\n\n'));
}

function printMachine(poppler: string): void {
  const cpus = os.cpus();
  console.log(`date: ${new Date().toISOString()}`);
  console.log(`machine: ${cpus.length} x ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB, ${os.platform()} ${os.release()}`);
  console.log(`node ${process.version}, ${poppler}, corpus ${CORPUS_DIR}, ${ROUNDS} rounds\n`);
}

/** Reads the corpus PDFs and keeps those both extractors can read, with their text. */
async function loadPdfs(): Promise<{ files: PdfFile[]; texts: string[] }> {
  const files: PdfFile[] = [];
  const texts: string[] = [];
  for (const name of readdirSync(CORPUS_DIR).filter((entry) => entry.endsWith('.pdf')).sort()) {
    const data = readFileSync(path.join(CORPUS_DIR, name));
    try {
      const document = await extractDocument(data, name, 'application/pdf');
      await runPdftotext(path.join(CORPUS_DIR, name));
      files.push({ name, data, pages: Number(document.metadata.page_count) });
      texts.push(document.text);
    } catch (error) {
      const code = (error as { code?: unknown }).code ?? (error as Error).message;
      console.log(`skipped ${name}: ${String(code)}`);
    }
  }
  console.log('');
  return { files, texts };
}

async function runPdftotext(file: string): Promise<string> {
  // The same options as the product's PDF extractor, reading the file directly.
  const { stdout } = await run('pdftotext', ['-enc', 'UTF-8', '-eol', 'unix', file, '-'], { maxBuffer: 256 * MEGABYTE });
  return stdout;
}

/** Times both extractors over every file, one file at a time, alternating them each round. */
async function benchmarkExtraction(files: PdfFile[]): Promise<void> {
  const ours: Throughput = { seconds: 0, pages: 0, bytes: 0 };
  const poppler: Throughput = { seconds: 0, pages: 0, bytes: 0 };

  for (let round = 0; round <= ROUNDS; round += 1) {
    // Round 0 warms up module loading and the file cache and is not counted.
    const counted = round > 0;
    for (const file of files) {
      let started = performance.now();
      await extractDocument(file.data, file.name, 'application/pdf');
      if (counted) add(ours, performance.now() - started, file);

      started = performance.now();
      await runPdftotext(path.join(CORPUS_DIR, file.name));
      if (counted) add(poppler, performance.now() - started, file);
    }
  }

  const pages = files.reduce((sum, file) => sum + file.pages, 0);
  const bytes = files.reduce((sum, file) => sum + file.data.length, 0);
  console.log(`PDF extraction: ${files.length} files, ${pages} pages, ${(bytes / MEGABYTE).toFixed(2)} MB`);
  console.log(`${'extractor'.padEnd(26)}${'pages/s'.padStart(10)}${'MB/s'.padStart(10)}`);
  printThroughput('extractDocument (ours)', ours);
  printThroughput('pdftotext', poppler);
  const ratio = poppler.seconds / ours.seconds;
  console.log(`ratio ours / pdftotext: ${ratio.toFixed(2)} (throughput ratio, below 1 means ours is slower)\n`);
}

function add(total: Throughput, milliseconds: number, file: PdfFile): void {
  total.seconds += milliseconds / 1000;
  total.pages += file.pages;
  total.bytes += file.data.length;
}

function printThroughput(label: string, total: Throughput): void {
  const pagesPerSecond = total.pages / total.seconds;
  const megabytesPerSecond = total.bytes / MEGABYTE / total.seconds;
  console.log(`${label.padEnd(26)}${pagesPerSecond.toFixed(1).padStart(10)}${megabytesPerSecond.toFixed(2).padStart(10)}`);
}

/** Times every chunking strategy on the same text. MB counts the UTF-8 bytes of the text. */
async function benchmarkChunking(text: string): Promise<void> {
  const embedder = new HashingEmbedder();
  const embed = (batch: string[]) => embedder.embed(batch, 'document');
  const characters = { chunk_size: 1000, chunk_overlap: 100 };
  const configs: ChunkingConfig[] = [
    { strategy: 'fixed_size', ...characters },
    { strategy: 'recursive_character', ...characters },
    { strategy: 'sentence', ...characters },
    { strategy: 'paragraph', ...characters },
    { strategy: 'markdown_aware', ...characters },
    { strategy: 'code_aware', ...characters },
    { strategy: 'table_aware', ...characters },
    { strategy: 'token_based', chunk_size: 256, chunk_overlap: 32 },
    { strategy: 'semantic', chunk_size: 1000, chunk_overlap: 0, options: { embedder_id: EMBEDDER_ID } },
  ];

  const megabytes = Buffer.byteLength(text, 'utf8') / MEGABYTE;
  console.log(`Chunking: ${megabytes.toFixed(2)} MB of extracted PDF text and Markdown (${text.length} characters)`);
  console.log(`${'strategy'.padEnd(22)}${'settings'.padEnd(18)}${'chunks'.padStart(8)}${'MB/s'.padStart(10)}`);
  for (const config of configs) {
    // The first call is a warm-up, which also loads the tokenizer for token_based.
    let chunks = await chunkDocument(text, config, [], { embed });
    // At least ROUNDS rounds and at least one second, so that fast strategies are timed over many runs.
    let rounds = 0;
    const started = performance.now();
    while (rounds < ROUNDS || performance.now() - started < 1000) {
      chunks = await chunkDocument(text, config, [], { embed });
      rounds += 1;
    }
    const seconds = (performance.now() - started) / 1000;
    const unit = config.strategy === 'token_based' ? 'tokens' : 'chars';
    const settings = `${config.chunk_size}/${config.chunk_overlap} ${unit}`;
    console.log(`${config.strategy.padEnd(22)}${settings.padEnd(18)}${String(chunks.length).padStart(8)}${((megabytes * rounds) / seconds).toFixed(2).padStart(10)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
