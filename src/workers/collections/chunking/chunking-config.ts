import { InvalidInputError } from 'src/common/app-error';

export type ChunkingStrategy =
  | 'recursive_character'
  | 'fixed_size'
  | 'sentence'
  | 'paragraph'
  | 'markdown_aware'
  | 'code_aware'
  | 'table_aware'
  | 'token_based'
  | 'semantic';

/** Tokenizers that `token_based` counts with, from js-tiktoken. */
export type TokenEncoding = 'cl100k_base' | 'o200k_base';

export const TOKEN_ENCODINGS: readonly TokenEncoding[] = ['cl100k_base', 'o200k_base'];

/** Languages whose comment and string syntax `code_aware` supports. */
export const CODE_LANGUAGES = [
  'c',
  'cpp',
  'csharp',
  'go',
  'java',
  'javascript',
  'kotlin',
  'php',
  'python',
  'ruby',
  'rust',
  'scala',
  'shell',
  'sql',
  'swift',
  'typescript',
] as const;

export type CodeLanguage = (typeof CODE_LANGUAGES)[number];

/** Strategy-specific settings. Each strategy accepts only its own keys. */
export interface ChunkingOptions {
  /** `markdown_aware`: start a new chunk at every heading, so no chunk spans two sections. Default true. */
  split_on_headings?: boolean;
  /** `code_aware`: comment and string syntax to skip when counting brackets. Default: a mix of C-like and `#` comments. */
  language?: CodeLanguage;
  /** `token_based`: tokenizer that counts `chunk_size` and `chunk_overlap`. Default `cl100k_base`. */
  encoding?: TokenEncoding;
  /**
   * `semantic`: a sentence whose cosine similarity to the mean embedding of the current chunk
   * is below this value starts a new chunk. From -1 to 1, default 0.5.
   */
  similarity_threshold?: number;
  /** `semantic`: id (UUID) of the embedder that embeds the sentences. Required. */
  embedder_id?: string;
}

export interface ChunkingConfig {
  strategy: ChunkingStrategy;
  /**
   * Maximum chunk length: UTF-16 code units (JavaScript string length) for every strategy
   * except `token_based`, which counts tokens.
   */
  chunk_size: number;
  /** Maximum amount of text a chunk shares with the previous one, in the unit of `chunk_size`. */
  chunk_overlap: number;
  /**
   * Split points from strongest to weakest, for `recursive_character` and for text too long
   * for the structural units of `sentence`, `paragraph`, `markdown_aware`, `table_aware` and
   * `semantic`. `""` means "between any two characters". `fixed_size`, `code_aware` and
   * `token_based` ignore it.
   */
  separators?: string[];
  options?: ChunkingOptions;
}

export const CHUNKING_STRATEGIES: readonly ChunkingStrategy[] = [
  'recursive_character',
  'fixed_size',
  'sentence',
  'paragraph',
  'markdown_aware',
  'code_aware',
  'table_aware',
  'token_based',
  'semantic',
];

export const DEFAULT_SEPARATORS: readonly string[] = ['\n\n', '\n', '. ', ' ', ''];

export const DEFAULT_CHUNKING_CONFIG: ChunkingConfig = {
  strategy: 'recursive_character',
  chunk_size: 1000,
  chunk_overlap: 100,
};

export const DEFAULT_TOKEN_ENCODING: TokenEncoding = 'cl100k_base';
export const DEFAULT_SIMILARITY_THRESHOLD = 0.5;

export const MAX_CHUNK_SIZE = 100_000;

/**
 * Smallest `chunk_size` for `token_based`. One code point is at most 4 UTF-8 bytes, and the
 * byte-level tokenizers have a token for every byte, so 4 tokens always hold one character.
 */
export const MIN_TOKEN_CHUNK_SIZE = 4;

const KNOWN_FIELDS = new Set(['strategy', 'chunk_size', 'chunk_overlap', 'separators', 'options']);

const STRATEGY_OPTIONS: Record<ChunkingStrategy, readonly (keyof ChunkingOptions)[]> = {
  recursive_character: [],
  fixed_size: [],
  sentence: [],
  paragraph: [],
  markdown_aware: ['split_on_headings'],
  code_aware: ['language'],
  table_aware: [],
  token_based: ['encoding'],
  semantic: ['similarity_threshold', 'embedder_id'],
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Checks an untrusted chunking configuration and returns it typed. Throws
 * `InvalidInputError('invalid_chunking_config')` whose message and `details.field` name the
 * bad field. It rejects unknown fields and strategies, and a `chunk_size` outside 1..100000
 * (4..100000 for `token_based`). It also rejects a `chunk_overlap` that is negative or not
 * below `chunk_size`, and `separators` that is not a non-empty array of strings. In
 * `options` it rejects keys the strategy does not take, invalid values, and a missing
 * `embedder_id` for `semantic`. Option fields are named `options.<key>`.
 */
export function validateChunkingConfig(config: unknown): ChunkingConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw invalidConfig('chunking', 'must be an object with strategy, chunk_size and chunk_overlap', config);
  }
  const fields = config as Record<string, unknown>;

  for (const key of Object.keys(fields)) {
    if (!KNOWN_FIELDS.has(key)) {
      throw invalidConfig(key, `is not a chunking setting (allowed fields: ${[...KNOWN_FIELDS].join(', ')})`, fields[key]);
    }
  }

  const { strategy, chunk_size: chunkSize, chunk_overlap: chunkOverlap, separators, options } = fields;
  if (typeof strategy !== 'string' || !CHUNKING_STRATEGIES.includes(strategy as ChunkingStrategy)) {
    throw invalidConfig('strategy', `must be one of ${CHUNKING_STRATEGIES.join(', ')}`, strategy);
  }
  const minimumSize = strategy === 'token_based' ? MIN_TOKEN_CHUNK_SIZE : 1;
  if (!Number.isInteger(chunkSize) || (chunkSize as number) < minimumSize || (chunkSize as number) > MAX_CHUNK_SIZE) {
    throw invalidConfig('chunk_size', `must be an integer from ${minimumSize} to ${MAX_CHUNK_SIZE} for strategy ${strategy}`, chunkSize);
  }
  if (!Number.isInteger(chunkOverlap) || (chunkOverlap as number) < 0) {
    throw invalidConfig('chunk_overlap', 'must be an integer of 0 or more', chunkOverlap);
  }
  if ((chunkOverlap as number) >= (chunkSize as number)) {
    throw invalidConfig('chunk_overlap', `must be less than chunk_size (${chunkSize as number})`, chunkOverlap);
  }
  if (separators !== undefined) {
    const valid = Array.isArray(separators) && separators.length > 0 && separators.every((entry) => typeof entry === 'string');
    if (!valid) {
      throw invalidConfig('separators', 'must be a non-empty array of strings', separators);
    }
  }
  const validOptions = validateOptions(strategy as ChunkingStrategy, options);

  return {
    strategy: strategy as ChunkingStrategy,
    chunk_size: chunkSize as number,
    chunk_overlap: chunkOverlap as number,
    ...(separators !== undefined ? { separators: [...(separators as string[])] } : {}),
    ...(validOptions !== undefined ? { options: validOptions } : {}),
  };
}

function validateOptions(strategy: ChunkingStrategy, options: unknown): ChunkingOptions | undefined {
  if (options === undefined) {
    if (strategy === 'semantic') {
      throw invalidConfig('options.embedder_id', 'is required for strategy semantic (the UUID of the embedder for sentences)', undefined);
    }
    return undefined;
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidConfig('options', 'must be an object', options);
  }

  const allowed = STRATEGY_OPTIONS[strategy];
  const entries = options as Record<string, unknown>;
  for (const key of Object.keys(entries)) {
    if (!allowed.includes(key as keyof ChunkingOptions)) {
      const accepted = allowed.length > 0 ? `accepted options: ${allowed.join(', ')}` : 'it takes no options';
      throw invalidConfig(`options.${key}`, `is not an option of strategy ${strategy} (${accepted})`, entries[key]);
    }
  }

  const result: ChunkingOptions = {};
  const { split_on_headings: splitOnHeadings, language, encoding, similarity_threshold: threshold, embedder_id: embedderId } = entries;
  if (splitOnHeadings !== undefined) {
    if (typeof splitOnHeadings !== 'boolean') {
      throw invalidConfig('options.split_on_headings', 'must be true or false', splitOnHeadings);
    }
    result.split_on_headings = splitOnHeadings;
  }
  if (language !== undefined) {
    if (typeof language !== 'string' || !CODE_LANGUAGES.includes(language as CodeLanguage)) {
      throw invalidConfig('options.language', `must be one of ${CODE_LANGUAGES.join(', ')}`, language);
    }
    result.language = language as CodeLanguage;
  }
  if (encoding !== undefined) {
    if (typeof encoding !== 'string' || !TOKEN_ENCODINGS.includes(encoding as TokenEncoding)) {
      throw invalidConfig('options.encoding', `must be one of ${TOKEN_ENCODINGS.join(', ')}`, encoding);
    }
    result.encoding = encoding as TokenEncoding;
  }
  if (threshold !== undefined) {
    if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < -1 || threshold > 1) {
      throw invalidConfig('options.similarity_threshold', 'must be a number from -1 to 1', threshold);
    }
    result.similarity_threshold = threshold;
  }
  if (embedderId !== undefined) {
    if (typeof embedderId !== 'string' || !UUID.test(embedderId)) {
      throw invalidConfig('options.embedder_id', 'must be a UUID string', embedderId);
    }
    result.embedder_id = embedderId;
  }
  if (strategy === 'semantic' && result.embedder_id === undefined) {
    throw invalidConfig('options.embedder_id', 'is required for strategy semantic (the UUID of the embedder for sentences)', undefined);
  }

  return Object.keys(result).length > 0 ? result : undefined;
}

function invalidConfig(field: string, problem: string, value: unknown): InvalidInputError {
  return new InvalidInputError('invalid_chunking_config', `Invalid chunking setting: ${field} ${problem}, got ${describe(value)}.`, {
    field,
  });
}

function describe(value: unknown): string {
  if (value === undefined) {
    return 'nothing';
  }
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}
