import { AppError, InvalidInputError } from 'src/common/app-error';
import { HashingEmbedder } from 'src/embedders/hashing/hashing.embedder';
import {
  ChunkingConfig,
  chunkDocument,
  chunkText,
  TextChunk,
  validateChunkingConfig,
} from 'src/workers/collections/chunking/chunk-text';
import { findSentenceStarts } from 'src/workers/collections/chunking/sentence-boundaries';
import { tokenCounter } from 'src/workers/collections/chunking/token-chunking';
import { TextSegment } from 'src/workers/collections/extraction/extraction.types';

const EMBEDDER_ID = '3f1c2a4e-8b7d-4c6e-9f0a-1b2c3d4e5f60';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const config = (strategy: ChunkingConfig['strategy'], chunkSize: number, chunkOverlap = 0, options?: ChunkingConfig['options']): ChunkingConfig => ({
  strategy,
  chunk_size: chunkSize,
  chunk_overlap: chunkOverlap,
  ...(options ? { options } : {}),
});
const texts = (chunks: TextChunk[]): string[] => chunks.map((chunk) => chunk.text);

describe('findSentenceStarts', () => {
  const sentences = (text: string): string[] => {
    const starts = [0, ...findSentenceStarts(text, 0, text.length), text.length];
    return starts.slice(0, -1).map((start, index) => text.slice(start, starts[index + 1]).trim());
  };

  it('keeps abbreviations inside sentences', () => {
    const text = 'Dr. Smith met e.g. the U.S. team at 5 p.m. yesterday. Then they left. See Fig. 3 and Smith et al. for details.';

    expect(sentences(text)).toEqual([
      'Dr. Smith met e.g. the U.S. team at 5 p.m. yesterday.',
      'Then they left.',
      'See Fig. 3 and Smith et al. for details.',
    ]);
  });

  it('keeps an initial inside a name', () => {
    expect(sentences('John F. Kennedy spoke. He left.')).toEqual(['John F. Kennedy spoke.', 'He left.']);
  });

  it('does not split before a lowercase word', () => {
    expect(sentences('Buy approx. five apples. Done.')).toEqual(['Buy approx. five apples.', 'Done.']);
  });

  it('splits after No. before a word', () => {
    expect(sentences('See No. 5 here. No. Not that.')).toEqual(['See No. 5 here.', 'No.', 'Not that.']);
  });

  it('keeps a dotted acronym before a capital', () => {
    // A known limitation: "U.S." may end a sentence, but the heuristic cannot tell.
    expect(sentences('We met in the U.S. The next day we left.')).toEqual(['We met in the U.S. The next day we left.']);
  });

  it('splits CJK full stops without spaces', () => {
    expect(sentences('東京は晴れ．大阪は雨｡福岡は？')).toEqual(['東京は晴れ．', '大阪は雨｡', '福岡は？']);
  });

  it('splits at other terminal marks', () => {
    expect(sentences('Hello! Really? Yes… यह एक वाक्य है। यह दूसरा है।')).toEqual(['Hello!', 'Really?', 'Yes…', 'यह एक वाक्य है।', 'यह दूसरा है।']);
  });
});

describe('chunkText with sentence', () => {
  it('packs sentences around abbreviations', () => {
    const text = 'Dr. Smith met e.g. the U.S. team at 5 p.m. yesterday. Then they left. See Fig. 3 and Smith et al. for details.';

    expect(texts(chunkText(text, config('sentence', 60)))).toEqual([
      'Dr. Smith met e.g. the U.S. team at 5 p.m. yesterday.',
      'Then they left. See Fig. 3 and Smith et al. for details.',
    ]);
  });
});

describe('chunkText with paragraph', () => {
  it('packs whole paragraphs', () => {
    const text = 'First paragraph here.\n\nSecond one.\n\nThird paragraph is here.';

    expect(texts(chunkText(text, config('paragraph', 40)))).toEqual(['First paragraph here.\n\nSecond one.', 'Third paragraph is here.']);
  });

  it('does not split a paragraph that fits to fill a chunk', () => {
    const text = 'Short.\n\nA paragraph of thirty-one chars.';

    expect(texts(chunkText(text, config('paragraph', 35)))).toEqual(['Short.', 'A paragraph of thirty-one chars.']);
  });

  it('falls back to sentences, then words', () => {
    const text = 'Intro.\n\nOne sentence here. Another sentence there. Averyveryverylongword and more words.';

    expect(texts(chunkText(text, config('paragraph', 24)))).toEqual([
      'Intro.',
      'One sentence here.',
      'Another sentence there.',
      'Averyveryverylongword',
      'and more words.',
    ]);
  });
});

describe('chunkText with markdown_aware', () => {
  const markdown = [
    '# Guide',
    '',
    'Intro text.',
    '',
    '## Install',
    '',
    'Run this:',
    '',
    '```sh',
    'pip install tool',
    'tool --version',
    '```',
    '',
    '## Usage',
    '',
    '| Flag | Meaning |',
    '|------|---------|',
    '| -v | verbose |',
    '| -q | quiet |',
  ].join('\n');

  it('starts a chunk at every heading and keeps blocks whole', () => {
    const chunks = chunkText(markdown, config('markdown_aware', 60));

    expect(chunks.map((chunk) => [chunk.text, chunk.metadata.heading_path])).toEqual([
      ['# Guide\n\nIntro text.', ['Guide']],
      ['## Install\n\nRun this:', ['Guide', 'Install']],
      ['```sh\npip install tool\ntool --version\n```', ['Guide', 'Install']],
      ['## Usage', ['Guide', 'Usage']],
      ['| Flag | Meaning |\n|------|---------|\n| -v | verbose |', ['Guide', 'Usage']],
      ['| -q | quiet |', ['Guide', 'Usage']],
    ]);
    // The 38-character header is more than half of chunk_size, so it is not repeated.
    expect(chunks[5].prefix).toBeUndefined();
  });

  it('packs sections together without split_on_headings', () => {
    const chunks = chunkText(markdown, config('markdown_aware', 200, 0, { split_on_headings: false }));

    expect(chunks).toHaveLength(1);
    expect(chunks[0].metadata.heading_path).toEqual(['Guide']);
  });

  it('takes the heading path in force at the chunk start', () => {
    const text = '# A\n\nFirst part of a long section.\n\nSecond part of it.\n\n## B\n\nMore.';
    const chunks = chunkText(text, config('markdown_aware', 45, 0, { split_on_headings: false }));

    expect(chunks.map((chunk) => [chunk.text, chunk.metadata.heading_path])).toEqual([
      ['# A\n\nFirst part of a long section.', ['A']],
      ['Second part of it.\n\n## B\n\nMore.', ['A']],
    ]);
  });

  it('splits a long code block at lines with the fence repeated', () => {
    const lines = Array.from({ length: 8 }, (_, index) => `print(${index})`);
    const text = ['```python', ...lines, '```'].join('\n');
    const chunks = chunkText(text, config('markdown_aware', 40));

    expect(chunks[0].text.startsWith('```python\nprint(0)')).toBe(true);
    expect(chunks[0].prefix).toBeUndefined();
    for (const chunk of chunks.slice(1)) {
      expect(chunk.prefix).toBe('```python\n');
      expect(chunk.prefix!.length + chunk.text.length).toBeLessThanOrEqual(40);
      expect(chunk.text.split('\n').every((line) => /^print\(\d\)$|^```$/.test(line))).toBe(true);
    }
    expect(chunks.map((chunk) => chunk.text).join('\n')).toBe(text);
  });

  it('splits a long table at rows with the header repeated', () => {
    const rows = Array.from({ length: 6 }, (_, index) => `| row ${index} | value ${index} |`);
    const text = ['| Name | Value |', '|---|---|', ...rows].join('\n');
    const chunks = chunkText(text, config('markdown_aware', 70));

    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks[0].text.startsWith('| Name | Value |\n|---|---|\n| row 0')).toBe(true);
    for (const chunk of chunks.slice(1)) {
      expect(chunk.prefix).toBe('| Name | Value |\n|---|---|\n');
      expect(chunk.text.split('\n').every((line) => rows.includes(line))).toBe(true);
    }
  });

  it('ignores headings inside code blocks', () => {
    const text = '# Real\n\n```\n# not a heading\n```\n\nAfter.';
    const chunks = chunkText(text, config('markdown_aware', 25));

    expect(chunks.map((chunk) => chunk.metadata.heading_path)).toEqual(chunks.map(() => ['Real']));
  });

  it('reads setext headings', () => {
    const chunks = chunkText('Title\n=====\n\nBody.\n\nPart\n----\n\nMore.', config('markdown_aware', 100));

    expect(chunks.map((chunk) => chunk.metadata.heading_path)).toEqual([['Title'], ['Title', 'Part']]);
  });
});

describe('chunkText with code_aware', () => {
  const python = [
    'import os',
    'import sys',
    '',
    '',
    '@decorator',
    'def first(a):',
    '    return {"x": "}"}',
    '',
    '',
    'class Second:',
    '    def method(self):',
    '        pass',
    '',
    '    def other(self):',
    '        return 1',
    'def third():',
    '    pass',
  ].join('\n');

  it('splits Python at top-level declarations', () => {
    expect(texts(chunkText(python, config('code_aware', 50, 0, { language: 'python' })))).toEqual([
      'import os\nimport sys',
      '@decorator\ndef first(a):\n    return {"x": "}"}',
      'class Second:\n    def method(self):\n        pass',
      'def other(self):\n        return 1',
      'def third():\n    pass',
    ]);
  });

  it('ignores brackets in strings and comments', () => {
    const js = 'function f() {\n  const s = "{";\n  // {\n  /* { */\n  return s;\n}\nfunction g() {\n  return `{`;\n}\n';

    expect(texts(chunkText(js, config('code_aware', 70)))).toEqual([
      'function f() {\n  const s = "{";\n  // {\n  /* { */\n  return s;\n}',
      'function g() {\n  return `{`;\n}',
    ]);
  });

  it('keeps else and closing lines with their block', () => {
    const c = 'int main() {\n  return 0;\n}\nif (x) {\n  a();\n}\nelse {\n  b();\n}\n';

    expect(texts(chunkText(c, config('code_aware', 40)))).toEqual(['int main() {\n  return 0;\n}', 'if (x) {\n  a();\n}\nelse {\n  b();\n}']);
  });

  it('never cuts inside a line that fits', () => {
    const lines = Array.from({ length: 30 }, (_, index) => `    value_${index} = compute(${index}, ${index * 7})`);
    const text = ['def big():', ...lines, '    return value_0'].join('\n');

    for (const chunk of chunkText(text, config('code_aware', 100, 30))) {
      for (const line of chunk.text.split('\n')) {
        expect(text.split('\n').map((entry) => entry.trim())).toContain(line.trim());
      }
    }
  });

  it('cuts a line longer than chunk_size', () => {
    const text = `const data = "${'x'.repeat(50)}";`;

    expect(chunkText(text, config('code_aware', 20)).every((chunk) => chunk.text.length <= 20)).toBe(true);
  });
});

describe('chunkText with table_aware', () => {
  it('repeats the CSV header and never splits a row', () => {
    const csv = ['name,city,count', 'Blues,STL,1', 'Flyers,PHI,2', 'Maple Leafs,TOR,13', 'Kings,LA,2'].join('\n');
    const chunks = chunkText(`Teams:\n\n${csv}`, config('table_aware', 45));

    expect(chunks.map((chunk) => [chunk.prefix ?? '', chunk.text])).toEqual([
      ['', 'Teams:'],
      ['', 'name,city,count\nBlues,STL,1\nFlyers,PHI,2'],
      ['name,city,count\n', 'Maple Leafs,TOR,13\nKings,LA,2'],
    ]);
  });

  it('keeps a table that fits with the text around it', () => {
    const text = 'Intro.\n\na\tb\n1\t2\n\nOutro.';

    expect(texts(chunkText(text, config('table_aware', 100)))).toEqual([text]);
  });

  it('reads pipe rows separated by blank lines', () => {
    const rows = ['Team | City | Cups', 'Blues | St. Louis | 1', 'Flyers | Philadelphia | 2', 'Maple Leafs | Toronto | 13'];
    const chunks = chunkText(rows.join('\n\n'), config('table_aware', 50));

    expect(chunks.map((chunk) => chunk.text)).toEqual([`${rows[0]}\n\n${rows[1]}`, rows[2], rows[3]]);
    expect(chunks.slice(1).map((chunk) => chunk.prefix)).toEqual([`${rows[0]}\n`, `${rows[0]}\n`]);
  });

  it('splits a row longer than the bound and flags it', () => {
    const longRow = `x;${'word '.repeat(20)};z`;
    const csv = ['a;b;c', '1;2;3', longRow, '4;5;6'].join('\n');
    const chunks = chunkText(csv, config('table_aware', 40));

    const rowStart = csv.indexOf(longRow);
    const rowEnd = rowStart + longRow.length;
    const touchesRow = (chunk: TextChunk) => chunk.start < rowEnd && rowStart < chunk.end;

    expect(chunks.filter(touchesRow).length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      expect(chunk.metadata.split_row === true).toBe(touchesRow(chunk));
      expect((chunk.prefix?.length ?? 0) + chunk.text.length).toBeLessThanOrEqual(40);
    }
  });

  it('does not take prose with commas for a table', () => {
    const prose = 'We met, talked and left.\nLater, we came back.\nThen, at last, we slept.\nIn the morning, we ate.';

    expect(chunkText(prose, config('table_aware', 60)).some((chunk) => chunk.prefix !== undefined)).toBe(false);
  });
});

describe('chunkText with token_based', () => {
  const cl100k = tokenCounter('cl100k_base');

  it('counts tokens with the encoding', () => {
    const text = 'Hello world. Tokens are counted here. Another sentence follows.';
    const chunks = chunkText(text, config('token_based', 8));

    expect(texts(chunks)).toEqual(['Hello world. Tokens are counted here.', 'Another sentence follows.']);
    expect(cl100k.count('Hello world. Tokens are counted here.')).toBe(8);
  });

  it('uses o200k_base when asked', () => {
    const o200k = tokenCounter('o200k_base');
    const text = 'Die Straße ist naß. Übermorgen regnet es wieder.';

    for (const chunk of chunkText(text, config('token_based', 6, 0, { encoding: 'o200k_base' }))) {
      expect(o200k.count(chunk.text)).toBeLessThanOrEqual(6);
    }
  });

  it('cuts a long sentence between tokens, never inside a character', () => {
    const text = `${'数据'.repeat(20)}${'😀'.repeat(8)} Straße`;
    const chunks = chunkText(text, config('token_based', 5, 2));

    for (const chunk of chunks) {
      expect(cl100k.count(chunk.text)).toBeLessThanOrEqual(5);
      expect(chunk.text).not.toMatch(LONE_SURROGATE);
    }
    expect(chunks[chunks.length - 1].text.endsWith('Straße')).toBe(true);
  });

  it('counts special tokens as text', () => {
    expect(() => chunkText('Before <|endoftext|> after.', config('token_based', 10))).not.toThrow();
  });

  it('overlaps by whole sentences when they fit', () => {
    const text = 'One two. Three four. Five six. Seven eight.';
    const chunks = chunkText(text, config('token_based', 7, 3));

    expect(texts(chunks)).toEqual(['One two. Three four.', 'Three four. Five six.', 'Five six. Seven eight.']);
  });
});

describe('chunkDocument with semantic', () => {
  const semantic = (chunkSize: number, threshold?: number, overlap = 0): ChunkingConfig =>
    config('semantic', chunkSize, overlap, { embedder_id: EMBEDDER_ID, ...(threshold !== undefined ? { similarity_threshold: threshold } : {}) });
  // One axis per topic word, so that sentences about the same topic have similarity 1.
  const topics = ['cats', 'rockets', 'bread'];
  const embedByTopic = async (batch: string[]) =>
    batch.map((sentence) => topics.map((topic) => (sentence.toLowerCase().includes(topic) ? 1 : 0)));

  it('splits where the topic changes', async () => {
    const text = 'Cats purr. Cats sleep a lot. Rockets fly high. Rockets need fuel. Bread needs yeast.';
    const chunks = await chunkDocument(text, semantic(1000), [], { embed: embedByTopic });

    expect(texts(chunks)).toEqual(['Cats purr. Cats sleep a lot.', 'Rockets fly high. Rockets need fuel.', 'Bread needs yeast.']);
  });

  it('respects chunk_size within one topic', async () => {
    const text = 'Cats purr. Cats sleep. Cats eat. Cats play.';
    const chunks = await chunkDocument(text, semantic(22), [], { embed: embedByTopic });

    expect(texts(chunks)).toEqual(['Cats purr. Cats sleep.', 'Cats eat. Cats play.']);
  });

  it('repeats trailing sentences as overlap', async () => {
    const text = 'Cats purr. Cats nap. Rockets fly.';
    const chunks = await chunkDocument(text, semantic(100, 0.5, 10), [], { embed: embedByTopic });

    expect(texts(chunks)).toEqual(['Cats purr. Cats nap.', 'Cats nap. Rockets fly.']);
  });

  it('batches embed calls', async () => {
    const text = Array.from({ length: 150 }, (_, index) => `Sentence number ${index} is here.`).join(' ');
    const batchSizes: number[] = [];
    const embedder = new HashingEmbedder();

    await chunkDocument(text, semantic(500, 0.1), [], {
      embed: async (batch) => {
        batchSizes.push(batch.length);
        return embedder.embed(batch, 'document');
      },
    });

    expect(batchSizes).toEqual([64, 64, 22]);
  });

  it('needs an embed function', async () => {
    await expect(chunkDocument('Text.', semantic(100))).rejects.toMatchObject({ code: 'semantic_chunking_needs_embedder' });
    expect(() => chunkText('Text.', semantic(100))).toThrow(InvalidInputError);
  });

  it('rejects embedder output of the wrong length', async () => {
    const promise = chunkDocument('One. Two.', semantic(100), [], { embed: async () => [[1, 0]] });

    await expect(promise).rejects.toBeInstanceOf(AppError);
    await expect(promise).rejects.toMatchObject({ code: 'invalid_embedder_output' });
  });

  it('runs other strategies without an embedder', async () => {
    const chunks = await chunkDocument('One. Two.', config('sentence', 5));

    expect(texts(chunks)).toEqual(['One.', 'Two.']);
  });
});

describe('chunk metadata from segments', () => {
  it('copies sheet and slide keys', () => {
    const segments: TextSegment[] = [
      { start: 0, end: 10, metadata: { sheet: 'Sales', slide: 2 } },
      { start: 12, end: 22, metadata: { sheet: 'Costs', slide: 3 } },
    ];
    const [chunk] = chunkText('Row one..\n\nRow two...', config('recursive_character', 100), segments);

    expect(chunk.metadata).toMatchObject({ sheet: 'Sales', slide: 2, slides: [2, 3] });
  });
});

describe('validateChunkingConfig options', () => {
  const fieldOf = (value: unknown): string | undefined => {
    try {
      validateChunkingConfig(value);
      return undefined;
    } catch (error) {
      return error instanceof InvalidInputError ? (error.details?.field as string) : 'unexpected error';
    }
  };

  it.each([
    [config('token_based', 100, 0, { encoding: 'gpt2' as never }), 'options.encoding'],
    [config('token_based', 3), 'chunk_size'],
    [config('token_based', 100, 100), 'chunk_overlap'],
    [config('semantic', 100, 0, {}), 'options.embedder_id'],
    [config('semantic', 100, 0, { embedder_id: 'not-a-uuid' }), 'options.embedder_id'],
    [config('semantic', 100, 0, { embedder_id: EMBEDDER_ID, similarity_threshold: 2 }), 'options.similarity_threshold'],
    [config('markdown_aware', 100, 0, { split_on_headings: 'yes' as never }), 'options.split_on_headings'],
    [config('code_aware', 100, 0, { language: 'cobol' as never }), 'options.language'],
    [config('paragraph', 100, 0, { language: 'python' }), 'options.language'],
    [{ ...config('table_aware', 100), options: [] }, 'options'],
  ])('rejects %j naming %s', (value, field) => {
    expect(fieldOf(value)).toBe(field);
  });

  it('accepts every strategy with its options', () => {
    const valid = [
      config('paragraph', 100, 10),
      config('markdown_aware', 100, 10, { split_on_headings: false }),
      config('code_aware', 100, 10, { language: 'typescript' }),
      config('table_aware', 100, 10),
      config('token_based', 100, 10, { encoding: 'o200k_base' }),
      config('semantic', 100, 10, { embedder_id: EMBEDDER_ID, similarity_threshold: 0.3 }),
    ];

    for (const entry of valid) {
      expect(validateChunkingConfig(entry)).toEqual(entry);
    }
  });
});
