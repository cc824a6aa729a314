import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { HashingEmbedder } from 'src/embedders/hashing/hashing.embedder';
import { ChunkingConfig, chunkDocument, chunkText, TextChunk } from 'src/workers/collections/chunking/chunk-text';
import { splitSentences } from 'src/workers/collections/chunking/text-atoms';
import { tokenCounter } from 'src/workers/collections/chunking/token-chunking';

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

type Random = () => number;
const pick = <T>(random: Random, values: readonly T[]): T => values[Math.floor(random() * values.length)];
const integer = (random: Random, min: number, max: number): number => min + Math.floor(random() * (max - min + 1));

const EMBEDDER_ID = '3f1c2a4e-8b7d-4c6e-9f0a-1b2c3d4e5f60';
const corpus = (name: string, encoding: string = 'utf-8'): string =>
  new TextDecoder(encoding).decode(readFileSync(path.join(CORPUS_DIR, name)));

// ---- Random texts -------------------------------------------------------------------------

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'Straße', 'naïve', 'данные', '数据', '😀', '𐌲𐌿𐍄', 'Dr.', 'e.g.', 'U.S.', 'x'];
const PUNCTUATION = ['. ', '! ', '? ', '。', '！', '. ', ' ', ' ', ' ', ' ', ' ', '\n', '\n\n', '\n\n\n', '  '];

/** Prose without commas, tabs or pipes, so that it never looks like a table. */
function randomProse(random: Random, length: number): string {
  let text = '';
  while (text.length < length) {
    const roll = random();
    if (roll < 0.02) {
      text += 'y'.repeat(integer(random, 1, 300));
    } else if (roll < 0.5) {
      text += pick(random, WORDS);
    } else {
      text += pick(random, PUNCTUATION);
    }
  }
  return text;
}

function randomMarkdown(random: Random): string {
  const blocks: string[] = [];
  const count = integer(random, 1, 25);
  for (let index = 0; index < count; index += 1) {
    const roll = random();
    if (roll < 0.2) {
      blocks.push(`${'#'.repeat(integer(random, 1, 4))} ${randomProse(random, integer(random, 1, 30)).replace(/\s+/g, ' ').trim() || 'Title'}`);
    } else if (roll < 0.4) {
      const lines = Array.from({ length: integer(random, 0, 15) }, () => randomCodeLine(random));
      blocks.push([`\`\`\`${pick(random, ['', 'python', 'js', 'text'])}`, ...lines, '```'].join('\n'));
    } else if (roll < 0.55) {
      blocks.push(randomMarkdownTable(random));
    } else {
      blocks.push(randomProse(random, integer(random, 0, 600)).replace(/^(#|```|~~~)/gm, 'z'));
    }
  }
  return blocks.join(pick(random, ['\n\n', '\n\n\n', '\n']));
}

function randomMarkdownTable(random: Random): string {
  const columns = integer(random, 1, 4);
  const cell = () => (random() < 0.05 ? 'w '.repeat(integer(random, 10, 120)) : pick(random, WORDS));
  const row = () => `| ${Array.from({ length: columns }, cell).join(' | ')} |`;
  const delimiter = `|${Array.from({ length: columns }, () => '---').join('|')}|`;
  return [row(), delimiter, ...Array.from({ length: integer(random, 0, 20) }, row)].join('\n');
}

function randomCodeLine(random: Random, python = false): string {
  const indent = '  '.repeat(integer(random, 0, 3));
  const roll = random();
  if (roll < 0.05) return `${indent}const long = "${'q'.repeat(integer(random, 50, 400))}";`;
  if (roll < 0.15) return '';
  if (roll < 0.25) return `${indent}${python ? '#' : '//'} comment with { and '`;
  return `${indent}value = compute("{", ${integer(random, 0, 999)}) + other[${integer(random, 0, 9)}];`;
}

/** Returns JavaScript-like or Python-like source and the text of each top-level declaration. */
function randomCode(random: Random): { text: string; declarations: string[]; python: boolean } {
  const python = random() < 0.5;
  const declarations: string[] = [];
  const count = integer(random, 1, 12);
  for (let index = 0; index < count; index += 1) {
    const body = Array.from({ length: integer(random, 1, 12) }, () => randomCodeLine(random, python).replace(/^/, python ? '    ' : '  '));
    if (python) {
      const decorator = random() < 0.3 ? '@cached\n' : '';
      declarations.push(`${decorator}def function_${index}(a, b):\n${body.join('\n')}\n    return a`);
    } else {
      const comment = random() < 0.3 ? '/** Does { things. */\n' : '';
      declarations.push(`${comment}function f${index}(a, b) {\n${body.join('\n')}\n  return a;\n}`);
    }
  }
  let text = '';
  for (const declaration of declarations) {
    text += declaration + pick(random, ['\n', '\n\n', '\n\n\n']);
  }
  return { text, declarations, python };
}

interface GeneratedTable {
  start: number;
  end: number;
  header: string;
  rows: { start: number; end: number }[];
}

/** Returns prose with tables in it (CSV, TSV, semicolon, "a | b" rows, GFM) and where the tables are. */
function randomTables(random: Random): { text: string; tables: GeneratedTable[] } {
  let text = '';
  const tables: GeneratedTable[] = [];
  const count = integer(random, 1, 8);
  for (let index = 0; index < count; index += 1) {
    text += `${randomProse(random, integer(random, 1, 300)).replace(/\s+$/, '')}.\n\n`;

    const kind = pick(random, ['csv', 'tsv', 'semicolon', 'pipes', 'markdown'] as const);
    const columns = integer(random, 3, 5);
    const rowCount = integer(random, 3, 25);
    const cell = () => (random() < 0.03 ? 'long '.repeat(integer(random, 10, 60)).trim() : pick(random, ['a1', 'bb', 'Zürich', '数据', '42', '😀', 'x y']));
    const separator = { csv: ',', tsv: '\t', semicolon: ';', pipes: ' | ', markdown: ' | ' }[kind];
    const rowSeparator = kind === 'pipes' ? '\n\n' : '\n';
    const makeRow = () => {
      const row = Array.from({ length: columns }, cell).join(separator);
      return kind === 'markdown' ? `| ${row} |` : row;
    };

    const lines = Array.from({ length: rowCount }, makeRow);
    if (kind === 'markdown') {
      lines.splice(1, 0, `|${Array.from({ length: columns }, () => '---').join('|')}|`);
    }
    const headerLines = kind === 'markdown' ? 2 : 1;
    const start = text.length;
    const rows: { start: number; end: number }[] = [];
    lines.forEach((line, position) => {
      rows.push({ start: text.length, end: text.length + line.length });
      text += line + (position < lines.length - 1 ? rowSeparator : '\n\n');
    });
    tables.push({ start, end: rows[rows.length - 1].end, header: lines.slice(0, headerLines).join('\n'), rows });
  }
  return { text, tables };
}

// ---- Checks -------------------------------------------------------------------------------

type Measure = (text: string) => number;
const characters: Measure = (text) => text.length;
const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/** Returns the first broken property shared by all strategies, or undefined when all hold. */
function findViolation(text: string, config: ChunkingConfig, chunks: TextChunk[], measure: Measure = characters): string | undefined {
  let previous: TextChunk | undefined;
  for (const [index, chunk] of chunks.entries()) {
    const where = `chunk ${index} [${chunk.start}, ${chunk.end})`;
    if (measure((chunk.prefix ?? '') + chunk.text) > config.chunk_size) return `${where} with its prefix is longer than chunk_size`;
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
      if (chunk.start < previous.end && measure(text.slice(chunk.start, previous.end)) > config.chunk_overlap) {
        return `${where} overlaps the previous chunk by more than chunk_overlap`;
      }
    }
    previous = chunk;
  }

  const tail = text.slice(previous ? previous.end : 0);
  return tail.trim() === '' ? undefined : 'text after the last chunk is not covered';
}

/**
 * Returns the first unit that no single chunk contains, after trimming the unit. Chunk starts
 * and ends both increase, so only the last chunk starting at or before the unit can hold it.
 */
function findSplitUnit(text: string, chunks: TextChunk[], units: { start: number; end: number }[]): string | undefined {
  for (const unit of units) {
    let start = unit.start;
    let end = unit.end;
    while (start < end && /\s/.test(text[start])) start += 1;
    while (end > start && /\s/.test(text[end - 1])) end -= 1;
    if (start === end) continue;

    let low = 0;
    let high = chunks.length - 1;
    let holder = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (chunks[middle].start <= start) {
        holder = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    if (holder === -1 || chunks[holder].end < end) {
      const around = holder === -1 ? 'no chunk starts before it' : `chunk ${holder} is [${chunks[holder].start}, ${chunks[holder].end})`;
      return `unit [${start}, ${end}) ${JSON.stringify(text.slice(start, Math.min(end, start + 60)))} is split: ${around}`;
    }
  }
  return undefined;
}

function randomSizes(random: Random, minimum = 1, maximum = 400): { chunk_size: number; chunk_overlap: number } {
  const size = minimum + Math.floor(random() ** 2 * (maximum - minimum));
  const overlap = random() < 0.3 ? 0 : Math.floor(random() * size);
  return { chunk_size: size, chunk_overlap: overlap };
}

/** Returns the paragraphs of a text: the spans between blank lines. */
function paragraphsOf(text: string): { start: number; end: number }[] {
  const units: { start: number; end: number }[] = [];
  let start = 0;
  for (const match of text.matchAll(/\n[ \t]*\n\s*/g)) {
    units.push({ start, end: match.index });
    start = match.index + match[0].length;
  }
  units.push({ start, end: text.length });
  return units;
}

function sentencesOf(text: string): { start: number; end: number }[] {
  return splitSentences(text, [''], text.length + 1).map((atom) => ({ start: atom.start, end: atom.contentEnd }));
}

const fitting = (units: { start: number; end: number }[], size: number, measure: (start: number, end: number) => number) =>
  units.filter((unit) => measure(unit.start, unit.end) <= size);

/** Fenced code blocks and GFM tables found line by line, each with its lines. */
function markdownBlocksOf(text: string): { start: number; end: number; lines: { start: number; end: number }[] }[] {
  const lines: { start: number; end: number; text: string }[] = [];
  let position = 0;
  for (const line of text.split('\n')) {
    lines.push({ start: position, end: position + line.length, text: line });
    position += line.length + 1;
  }

  const blocks: { start: number; end: number; lines: { start: number; end: number }[] }[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const fence = /^ {0,3}(`{3,}|~{3,})/.exec(lines[index].text);
    if (fence) {
      let last = index + 1;
      while (last < lines.length && !new RegExp(`^ {0,3}${fence[1][0]}{${fence[1].length},}\\s*$`).test(lines[last].text)) last += 1;
      last = Math.min(last, lines.length - 1);
      blocks.push({ start: lines[index].start, end: lines[last].end, lines: lines.slice(index, last + 1) });
      index = last;
      continue;
    }
    if (lines[index].text.includes('|') && /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/.test(lines[index + 1]?.text ?? '')) {
      let last = index + 1;
      while (last + 1 < lines.length && lines[last + 1].text.trim() !== '' && lines[last + 1].text.includes('|')) last += 1;
      blocks.push({ start: lines[index].start, end: lines[last].end, lines: lines.slice(index, last + 1) });
      index = last;
    }
  }
  return blocks;
}

/** Returns the ATX heading path in force at each start, skipping headings in code blocks. */
function headingPathsAt(text: string, starts: number[]): (string[] | undefined)[] {
  const fences = markdownBlocksOf(text).filter((block) => /^ {0,3}(`{3,}|~{3,})/.test(text.slice(block.start, block.end)));
  const headings: { start: number; path: string[] }[] = [];
  const stack: { level: number; title: string }[] = [];
  for (const match of text.matchAll(/^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/gm)) {
    if (fences.some((fence) => fence.start <= match.index && match.index < fence.end)) continue;
    const level = match[1].length;
    while (stack.length > 0 && stack[stack.length - 1].level >= level) stack.pop();
    stack.push({ level, title: (match[2] ?? '').trim() });
    headings.push({ start: match.index, path: stack.map((entry) => entry.title) });
  }
  return starts.map((start) => [...headings].reverse().find((heading) => heading.start <= start)?.path);
}

// ---- Properties ---------------------------------------------------------------------------

describe('paragraph chunking properties', () => {
  it('hold for random and corpus texts', () => {
    const random = createRandom(101);
    const texts = [...Array.from({ length: 150 }, () => randomProse(random, integer(random, 0, 3000))), corpus('md-pdfplumber-readme-tables-code.md')];
    for (const [run, text] of texts.entries()) {
      const config: ChunkingConfig = { strategy: 'paragraph', ...randomSizes(random) };
      const chunks = chunkText(text, config);

      const violation =
        findViolation(text, config, chunks) ??
        findSplitUnit(text, chunks, fitting(paragraphsOf(text), config.chunk_size, (start, end) => text.slice(start, end).trim().length));

      expect({ run, config, violation }).toEqual({ run, config, violation: undefined });
    }
  });
});

describe('markdown_aware chunking properties', () => {
  it('hold for random and corpus Markdown', () => {
    const random = createRandom(202);
    const texts = [...Array.from({ length: 200 }, () => randomMarkdown(random)), corpus('md-pdfplumber-readme-tables-code.md'), corpus('md-gfm-table-codefence-strikethrough.md')];
    for (const [run, text] of texts.entries()) {
      const config: ChunkingConfig = { strategy: 'markdown_aware', ...randomSizes(random, 1, 800), options: { split_on_headings: random() < 0.7 } };
      const chunks = chunkText(text, config);

      // A block that fits stays whole. A line of a longer block fits next to a repeated header
      // (at most half of chunk_size), so it stays whole when it is at most half as long.
      const blocks = markdownBlocksOf(text);
      const size = config.chunk_size;
      const units = [
        ...blocks.filter((block) => block.end - block.start <= size),
        ...blocks.flatMap((block) => block.lines).filter((line) => line.end - line.start <= size / 2),
      ];
      const paths = headingPathsAt(text, chunks.map((chunk) => chunk.start));
      const wrongPath = chunks.findIndex((chunk, index) => JSON.stringify(chunk.metadata.heading_path) !== JSON.stringify(paths[index]));
      const violation =
        findViolation(text, config, chunks) ??
        findSplitUnit(text, chunks, units) ??
        (wrongPath === -1 ? undefined : `chunk ${wrongPath} has heading_path ${JSON.stringify(chunks[wrongPath].metadata.heading_path)}`);

      expect({ run, config, violation }).toEqual({ run, config, violation: undefined });
    }
  });
});

describe('code_aware chunking properties', () => {
  it('hold for random code and corpus texts', () => {
    const random = createRandom(303);
    const generated = Array.from({ length: 200 }, () => randomCode(random));
    const texts = [
      ...generated,
      { text: corpus('json-twitter-search-api-response.json').slice(0, 60_000), declarations: [], python: false },
      { text: corpus('md-pdfplumber-readme-tables-code.md'), declarations: [], python: true },
    ];
    for (const [run, { text, declarations, python }] of texts.entries()) {
      const config: ChunkingConfig = { strategy: 'code_aware', ...randomSizes(random, 1, 1000) };
      if (random() < 0.5) config.options = { language: python ? 'python' : pick(random, ['javascript', 'typescript', 'go'] as const) };
      const chunks = chunkText(text, config);

      const lines: { start: number; end: number }[] = [];
      let position = 0;
      for (const line of text.split('\n')) {
        lines.push({ start: position, end: position + line.length });
        position += line.length + 1;
      }
      let searchFrom = 0;
      const declarationUnits = declarations.map((declaration) => {
        const start = text.indexOf(declaration, searchFrom);
        searchFrom = start + declaration.length;
        return { start, end: start + declaration.length };
      });
      const measure = (start: number, end: number) => text.slice(start, end).trim().length;
      const violation =
        findViolation(text, config, chunks) ??
        findSplitUnit(text, chunks, fitting(lines, config.chunk_size, measure)) ??
        findSplitUnit(text, chunks, fitting(declarationUnits, config.chunk_size, measure));

      expect({ run, config, violation }).toEqual({ run, config, violation: undefined });
    }
  });
});

describe('table_aware chunking properties', () => {
  it('hold for random tables', () => {
    const random = createRandom(404);
    for (let run = 0; run < 200; run += 1) {
      const { text, tables } = randomTables(random);
      const config: ChunkingConfig = { strategy: 'table_aware', ...randomSizes(random, 1, 600) };
      const chunks = chunkText(text, config);
      const size = config.chunk_size;

      const units = [...tables.filter((table) => table.end - table.start <= size), ...tables.flatMap((table) => table.rows).filter((row) => row.end - row.start <= size / 2)];
      let violation = findViolation(text, config, chunks) ?? findSplitUnit(text, chunks, units);
      for (const [index, chunk] of chunks.entries()) {
        const table = tables.find((entry) => entry.start < chunk.start && chunk.start < entry.end);
        // The header is repeated when it takes at most half of chunk_size up to the first data row.
        const headerSpan = table ? table.rows[table.header.split('\n').length].start - table.start : 0;
        if (violation === undefined && table && headerSpan <= size / 2 && chunk.prefix !== `${table.header}\n`) {
          violation = `chunk ${index} ${JSON.stringify(chunk.text.slice(0, 40))} inside table ${JSON.stringify(table.header)} has prefix ${JSON.stringify(chunk.prefix)}`;
        }
        const cutRow = tables.flatMap((entry) => entry.rows).find((row) => chunk.start < row.end && row.start < chunk.end && !(chunk.start <= row.start && row.end <= chunk.end));
        if (violation === undefined && cutRow && chunk.metadata.split_row !== true) {
          violation = `chunk ${index} holds part of row [${cutRow.start}, ${cutRow.end}) without split_row`;
        }
      }

      expect({ run, config, violation }).toEqual({ run, config, violation: undefined });
    }
  });

  it('hold for corpus tables', () => {
    const random = createRandom(405);
    const texts = [
      corpus('csv-semicolon-delimited-with-commas.csv'),
      corpus('csv-utf16be-bom-stanley-cups.csv', 'utf-16be'),
      corpus('md-pdfplumber-readme-tables-code.md'),
      corpus('ndjson-amazon-cellphones-array-rows.ndjson').slice(0, 40_000),
    ];
    for (const text of texts) {
      for (let run = 0; run < 25; run += 1) {
        const config: ChunkingConfig = { strategy: 'table_aware', ...randomSizes(random, 1, 800) };
        const chunks = chunkText(text, config);

        const lines: { start: number; end: number }[] = [];
        let position = 0;
        for (const line of text.split('\n')) {
          lines.push({ start: position, end: position + line.length });
          position += line.length + 1;
        }
        // Every line here is a table row or prose; a row at most half of chunk_size is never cut.
        const rows = lines.filter((line) => /[|,;\t]/.test(text.slice(line.start, line.end)) && line.end - line.start <= config.chunk_size / 2);
        const csvRows = text.includes('|') ? [] : rows;
        const violation = findViolation(text, config, chunks) ?? findSplitUnit(text, chunks, csvRows);

        expect({ run, config, violation }).toEqual({ run, config, violation: undefined });
      }
    }
  });
});

describe('token_based chunking properties', () => {
  it('hold for random and corpus texts', () => {
    const random = createRandom(505);
    const texts = [
      ...Array.from({ length: 80 }, () => randomProse(random, integer(random, 0, 2500))),
      corpus('md-pdfplumber-readme-tables-code.md'),
      corpus('txt-latin1-multilanguage-phrases.txt', 'latin1'),
    ];
    for (const [run, text] of texts.entries()) {
      const encoding = random() < 0.7 ? 'cl100k_base' : 'o200k_base';
      const config: ChunkingConfig = { strategy: 'token_based', ...randomSizes(random, 4, 300), options: { encoding } };
      const counter = tokenCounter(encoding);
      const chunks = chunkText(text, config);

      const measure = (start: number, end: number) => counter.count(text.slice(start, end).trim());
      const violation =
        findViolation(text, config, chunks, (value) => counter.count(value)) ??
        findSplitUnit(text, chunks, fitting(sentencesOf(text), config.chunk_size, measure));

      expect({ run, config, violation }).toEqual({ run, config, violation: undefined });
    }
  });
});

describe('semantic chunking properties', () => {
  it('hold for random and corpus texts', async () => {
    const random = createRandom(606);
    const embedder = new HashingEmbedder({ dimensions: 64 });
    const texts = [...Array.from({ length: 60 }, () => randomProse(random, integer(random, 0, 3000))), corpus('md-pdfplumber-readme-tables-code.md')];
    for (const [run, text] of texts.entries()) {
      const config: ChunkingConfig = {
        strategy: 'semantic',
        ...randomSizes(random),
        options: { embedder_id: EMBEDDER_ID, similarity_threshold: random() * 1.2 - 0.2 },
      };
      const chunks = await chunkDocument(text, config, [], { embed: (batch) => embedder.embed(batch, 'document') });

      const units = fitting(sentencesOf(text), config.chunk_size, (start, end) => end - start);
      const violation = findViolation(text, config, chunks) ?? findSplitUnit(text, chunks, units);

      expect({ run, config, violation }).toEqual({ run, config, violation: undefined });
    }
  });
});
