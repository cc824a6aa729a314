import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { ChunkingConfig, ChunkingStrategy, chunkText, TextChunk } from 'src/workers/collections/chunking/chunk-text';


/** mulberry32: a small seeded generator, so every run checks the same cases. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'Straße', 'naïve', 'данные', '数据', '😀', '𐌲𐌿𐍄',
  ' ', ' ', ' ', ' ', '  ', '\t', '\n', '\n\n', '\n\n\n', '. ', '! ', '? ', '。', '！', '？', ', ',
];

function randomText(random: () => number, length: number): string {
  let text = '';
  while (text.length < length) {
    const roll = random();
    if (roll < 0.02) {
      // A long run without any separator forces cuts between characters.
      text += 'x'.repeat(1 + Math.floor(random() * 400));
    } else if (roll < 0.03) {
      text += ' '.repeat(1 + Math.floor(random() * 50));
    } else {
      text += TOKENS[Math.floor(random() * TOKENS.length)];
    }
  }
  return text;
}

function randomConfig(random: () => number): ChunkingConfig {
  const strategies: ChunkingStrategy[] = ['recursive_character', 'fixed_size', 'sentence'];
  const size = 1 + Math.floor(random() ** 2 * 400);
  const overlap = random() < 0.3 ? 0 : Math.floor(random() * size);
  const config: ChunkingConfig = {
    strategy: strategies[Math.floor(random() * strategies.length)],
    chunk_size: size,
    chunk_overlap: overlap,
  };
  if (random() < 0.2) {
    config.separators = random() < 0.5 ? ['\n', ' '] : ['。', '\n\n', ', ', ''];
  }
  return config;
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/** Returns the first broken chunking property, or undefined when all hold. */
function findViolation(text: string, config: ChunkingConfig, chunks: TextChunk[]): string | undefined {
  let previous: TextChunk | undefined;
  for (const [index, chunk] of chunks.entries()) {
    const where = `chunk ${index} [${chunk.start}, ${chunk.end})`;
    if (chunk.text.length > config.chunk_size) return `${where} is longer than chunk_size`;
    if (chunk.text !== text.slice(chunk.start, chunk.end)) return `${where} text is not the slice of the input`;
    if (chunk.text.trim() === '' || chunk.text !== chunk.text.trim()) return `${where} is empty or untrimmed`;
    if (chunk.metadata.chunk_index !== index) return `${where} has chunk_index ${String(chunk.metadata.chunk_index)}`;
    if (chunk.metadata.char_start !== chunk.start || chunk.metadata.char_end !== chunk.end) return `${where} has wrong char offsets`;
    if (config.chunk_size >= 2) {
      if (isLowSurrogate(text.charCodeAt(chunk.start))) return `${where} starts inside a surrogate pair`;
      if (isHighSurrogate(text.charCodeAt(chunk.end - 1))) return `${where} ends inside a surrogate pair`;
    }

    const gapStart = previous ? previous.end : 0;
    if (chunk.start > gapStart && text.slice(gapStart, chunk.start).trim() !== '') return `text before ${where} is not covered`;
    if (previous) {
      if (chunk.start <= previous.start || chunk.end <= previous.end) return `${where} does not follow the previous chunk`;
      if (previous.end - chunk.start > config.chunk_overlap) return `${where} overlaps the previous chunk by more than chunk_overlap`;
    }
    previous = chunk;
  }

  const tail = text.slice(previous ? previous.end : 0);
  return tail.trim() === '' ? undefined : 'text after the last chunk is not covered';
}

describe('chunkText properties', () => {
  it('hold for random texts and configurations', () => {
    const random = createRandom(20240607);
    for (let run = 0; run < 600; run += 1) {
      const text = randomText(random, Math.floor(random() * 3000));
      const config = randomConfig(random);

      const violation = findViolation(text, config, chunkText(text, config));

      expect({ run, config, violation }).toEqual({ run, config, violation: undefined });
    }
  });

  it('hold for corpus texts', () => {
    const texts = ['md-pdfplumber-readme-tables-code.md', 'txt-latin1-multilanguage-phrases.txt', 'html-cp1252-no-charset-declared.html'].map(
      (name) => readFileSync(path.join(CORPUS_DIR, name), 'latin1'),
    );
    const random = createRandom(7);
    for (const text of texts) {
      for (let run = 0; run < 40; run += 1) {
        const config = randomConfig(random);

        const violation = findViolation(text, config, chunkText(text, config));

        expect({ run, config, violation }).toEqual({ run, config, violation: undefined });
      }
    }
  });

  it('hold for the default configuration on a long text', () => {
    const text = randomText(createRandom(99), 200_000);
    const config: ChunkingConfig = { strategy: 'recursive_character', chunk_size: 1000, chunk_overlap: 100 };

    expect(findViolation(text, config, chunkText(text, config))).toBeUndefined();
  });
});
