import { InvalidInputError } from 'src/common/app-error';
import {
  ChunkingConfig,
  chunkText,
  DEFAULT_CHUNKING_CONFIG,
  validateChunkingConfig,
} from 'src/workers/collections/chunking/chunk-text';
import { TextSegment } from 'src/workers/collections/extraction/extraction.types';

const recursive = (chunkSize: number, chunkOverlap = 0, separators?: string[]): ChunkingConfig => ({
  strategy: 'recursive_character',
  chunk_size: chunkSize,
  chunk_overlap: chunkOverlap,
  ...(separators ? { separators } : {}),
});
const texts = (text: string, config: ChunkingConfig, segments?: TextSegment[]): string[] =>
  chunkText(text, config, segments).map((chunk) => chunk.text);

describe('chunkText with recursive_character', () => {
  it('returns one chunk for a short text', () => {
    const chunks = chunkText('  Short text.\n', DEFAULT_CHUNKING_CONFIG);

    expect(chunks).toEqual([
      { text: 'Short text.', start: 2, end: 13, metadata: { chunk_index: 0, char_start: 2, char_end: 13 } },
    ]);
  });

  it('returns no chunks for empty or blank text', () => {
    expect(chunkText('', DEFAULT_CHUNKING_CONFIG)).toEqual([]);
    expect(chunkText(' \n\n\t ', DEFAULT_CHUNKING_CONFIG)).toEqual([]);
  });

  it('packs paragraphs up to chunk_size', () => {
    const text = 'First paragraph.\n\nSecond one.\n\nThird paragraph here.\n\nFourth.';

    expect(texts(text, recursive(35))).toEqual(['First paragraph.\n\nSecond one.', 'Third paragraph here.\n\nFourth.']);
  });

  it('splits a long paragraph at lines, sentences, then words', () => {
    const text = 'One sentence here. Another sentence there. A third one.';

    expect(texts(text, recursive(25))).toEqual(['One sentence here.', 'Another sentence there.', 'A third one.']);
    expect(texts('alpha beta gamma delta', recursive(11))).toEqual(['alpha beta', 'gamma delta']);
  });

  it('cuts a run without separators between characters', () => {
    expect(texts('abcdefghij', recursive(4))).toEqual(['abcd', 'efgh', 'ij']);
  });

  it('prefers a paragraph break to a later word break', () => {
    const text = 'Alpha beta gamma delta.\n\nEpsilon zeta eta theta iota kappa lambda mu.';

    expect(texts(text, recursive(40))).toEqual(['Alpha beta gamma delta.', 'Epsilon zeta eta theta iota kappa lambda', 'mu.']);
  });

  it('starts the overlap on a piece boundary', () => {
    const text = 'one two three four five six seven eight nine ten';
    const chunks = chunkText(text, recursive(20, 8));

    expect(chunks.map((chunk) => chunk.text)).toEqual([
      'one two three four',
      'four five six seven',
      'seven eight nine ten',
    ]);
    for (let index = 1; index < chunks.length; index += 1) {
      expect(chunks[index - 1].end - chunks[index].start).toBeLessThanOrEqual(8);
    }
  });

  it('overlaps inside a long run without separators', () => {
    expect(texts('abcdefghij', recursive(4, 2))).toEqual(['abcd', 'cdef', 'efgh', 'ghij']);
  });

  it('uses custom separators', () => {
    expect(texts('a;b;c;d', recursive(3, 0, [';']))).toEqual(['a;', 'b;', 'c;d']);
  });

  it('keeps surrogate pairs whole', () => {
    const text = '😀😀😀😀';

    expect(texts(text, recursive(3))).toEqual(['😀', '😀', '😀', '😀']);
  });

  it('returns offsets into the original text', () => {
    const text = '\n\nIntro line.\n\n  Body text that goes on.  \n';

    for (const chunk of chunkText(text, recursive(16, 4))) {
      expect(text.slice(chunk.start, chunk.end)).toBe(chunk.text);
      expect(chunk.metadata).toMatchObject({ char_start: chunk.start, char_end: chunk.end });
    }
  });
});

describe('chunkText with fixed_size', () => {
  it('steps by chunk_size minus chunk_overlap', () => {
    const chunks = chunkText('abcdefghij', { strategy: 'fixed_size', chunk_size: 4, chunk_overlap: 1 });

    expect(chunks.map((chunk) => [chunk.start, chunk.end, chunk.text])).toEqual([
      [0, 4, 'abcd'],
      [3, 7, 'defg'],
      [6, 10, 'ghij'],
    ]);
  });

  it('trims whitespace at window edges', () => {
    expect(texts('ab  cd  ef', { strategy: 'fixed_size', chunk_size: 4, chunk_overlap: 0 })).toEqual(['ab', 'cd', 'ef']);
  });
});

describe('chunkText with sentence', () => {
  const sentence = (chunkSize: number, chunkOverlap = 0): ChunkingConfig => ({
    strategy: 'sentence',
    chunk_size: chunkSize,
    chunk_overlap: chunkOverlap,
  });

  it('packs whole sentences', () => {
    const text = 'First sentence. Second one! Third? Fourth sentence is here.';

    expect(texts(text, sentence(30))).toEqual(['First sentence. Second one!', 'Third?', 'Fourth sentence is here.']);
  });

  it('splits CJK sentences without spaces', () => {
    expect(texts('今日は晴れです。明日は雨です！本当？', sentence(9))).toEqual(['今日は晴れです。', '明日は雨です！', '本当？']);
  });

  it('keeps closing quotes with their sentence', () => {
    expect(texts('He said "Stop." Then he left.', sentence(16))).toEqual(['He said "Stop."', 'Then he left.']);
  });

  it('splits an oversized sentence recursively', () => {
    const chunks = texts('This sentence is far too long for one chunk. Short.', sentence(20));

    expect(chunks).toEqual(['This sentence is far', 'too long for one', 'chunk. Short.']);
  });

  it('overlaps by whole sentences when they fit', () => {
    const text = 'Aa aa. Bb bb. Cc cc. Dd dd.';

    expect(texts(text, sentence(14, 7))).toEqual(['Aa aa. Bb bb.', 'Bb bb. Cc cc.', 'Cc cc. Dd dd.']);
  });
});

describe('chunk metadata from segments', () => {
  const text = 'Page one text.\n\nPage two text.\n\nPage three.';
  const pages: TextSegment[] = [
    { start: 0, end: 14, metadata: { page: 1 } },
    { start: 16, end: 30, metadata: { page: 2 } },
    { start: 32, end: 43, metadata: { page: 3 } },
  ];

  it('adds the first page and all pages', () => {
    const chunks = chunkText(text, recursive(30), pages);

    expect(chunks.map((chunk) => chunk.metadata)).toEqual([
      { chunk_index: 0, char_start: 0, char_end: 30, page: 1, pages: [1, 2] },
      { chunk_index: 1, char_start: 32, char_end: 43, page: 3, pages: [3] },
    ]);
  });

  it('adds the heading path of the first overlapping section', () => {
    const markdown = '# A\n\nIntro.\n\n## B\n\nDetails.';
    const sections: TextSegment[] = [
      { start: 0, end: 11, metadata: { heading_path: ['A'] } },
      { start: 13, end: 27, metadata: { heading_path: ['A', 'B'] } },
    ];

    const chunks = chunkText(markdown, recursive(12), sections);

    expect(chunks.map((chunk) => [chunk.text, chunk.metadata.heading_path])).toEqual([
      ['# A\n\nIntro.', ['A']],
      ['## B', ['A', 'B']],
      ['Details.', ['A', 'B']],
    ]);
  });

  it('leaves metadata out when no segment overlaps', () => {
    const [chunk] = chunkText('Loose text.', DEFAULT_CHUNKING_CONFIG, [{ start: 50, end: 60, metadata: { page: 9 } }]);

    expect(chunk.metadata).toEqual({ chunk_index: 0, char_start: 0, char_end: 11 });
  });
});

describe('validateChunkingConfig', () => {
  const errorOf = (config: unknown): InvalidInputError => {
    try {
      validateChunkingConfig(config);
    } catch (error) {
      if (error instanceof InvalidInputError) return error;
      throw error;
    }
    throw new Error(`config was accepted: ${JSON.stringify(config)}`);
  };

  it('accepts the default configuration', () => {
    expect(validateChunkingConfig(DEFAULT_CHUNKING_CONFIG)).toEqual({
      strategy: 'recursive_character',
      chunk_size: 1000,
      chunk_overlap: 100,
    });
  });

  it('accepts custom separators', () => {
    const config = { strategy: 'sentence', chunk_size: 10, chunk_overlap: 0, separators: ['\n', ''] };

    expect(validateChunkingConfig(config)).toEqual(config);
  });

  it.each([
    [{ ...DEFAULT_CHUNKING_CONFIG, chunk_overlap: 1000 }, 'chunk_overlap'],
    [{ ...DEFAULT_CHUNKING_CONFIG, chunk_overlap: 1500 }, 'chunk_overlap'],
    [{ ...DEFAULT_CHUNKING_CONFIG, chunk_overlap: -1 }, 'chunk_overlap'],
    [{ ...DEFAULT_CHUNKING_CONFIG, chunk_overlap: 2.5 }, 'chunk_overlap'],
    [{ ...DEFAULT_CHUNKING_CONFIG, chunk_size: 0 }, 'chunk_size'],
    [{ ...DEFAULT_CHUNKING_CONFIG, chunk_size: 100_001 }, 'chunk_size'],
    [{ ...DEFAULT_CHUNKING_CONFIG, chunk_size: '1000' }, 'chunk_size'],
    [{ ...DEFAULT_CHUNKING_CONFIG, strategy: 'by_meaning' }, 'strategy'],
    [{ ...DEFAULT_CHUNKING_CONFIG, strategy: 'semantic' }, 'options.embedder_id'],
    [{ chunk_size: 100, chunk_overlap: 0 }, 'strategy'],
    [{ ...DEFAULT_CHUNKING_CONFIG, separators: [] }, 'separators'],
    [{ ...DEFAULT_CHUNKING_CONFIG, separators: ['\n', 3] }, 'separators'],
    [{ ...DEFAULT_CHUNKING_CONFIG, chunkSize: 500 }, 'chunkSize'],
    [null, 'chunking'],
    [[1, 2], 'chunking'],
  ])('rejects %j naming %s', (config, field) => {
    const error = errorOf(config);

    expect(error.code).toBe('invalid_chunking_config');
    expect(error.details).toEqual({ field });
    expect(error.message).toContain(field);
  });

  it('rejects overlap equal to size in chunkText', () => {
    expect(() => chunkText('text', { strategy: 'fixed_size', chunk_size: 5, chunk_overlap: 5 })).toThrow(InvalidInputError);
  });
});
