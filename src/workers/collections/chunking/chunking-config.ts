import { InvalidInputError } from 'src/common/app-error';

export type ChunkingStrategy = 'recursive_character' | 'fixed_size' | 'sentence';

export interface ChunkingConfig {
  strategy: ChunkingStrategy;
  /** Maximum chunk length in UTF-16 code units (JavaScript string length). */
  chunk_size: number;
  /** Maximum number of characters a chunk shares with the previous one. */
  chunk_overlap: number;
  /**
   * Split points from strongest to weakest, for `recursive_character` and for sentences
   * longer than `chunk_size` under `sentence`. `""` means "between any two characters".
   */
  separators?: string[];
}

export const CHUNKING_STRATEGIES: readonly ChunkingStrategy[] = ['recursive_character', 'fixed_size', 'sentence'];

export const DEFAULT_SEPARATORS: readonly string[] = ['\n\n', '\n', '. ', ' ', ''];

export const DEFAULT_CHUNKING_CONFIG: ChunkingConfig = {
  strategy: 'recursive_character',
  chunk_size: 1000,
  chunk_overlap: 100,
};

export const MAX_CHUNK_SIZE = 100_000;

const KNOWN_FIELDS = new Set(['strategy', 'chunk_size', 'chunk_overlap', 'separators']);

/**
 * Checks an untrusted chunking configuration and returns it typed. Throws
 * `InvalidInputError('invalid_chunking_config')` whose message and `details.field` name the
 * bad field: unknown fields, an unknown strategy, `chunk_size` outside 1..100000,
 * `chunk_overlap` negative or not below `chunk_size`, or `separators` that is not a
 * non-empty array of strings.
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

  const { strategy, chunk_size: chunkSize, chunk_overlap: chunkOverlap, separators } = fields;
  if (typeof strategy !== 'string' || !CHUNKING_STRATEGIES.includes(strategy as ChunkingStrategy)) {
    throw invalidConfig('strategy', `must be one of ${CHUNKING_STRATEGIES.join(', ')}`, strategy);
  }
  if (!Number.isInteger(chunkSize) || (chunkSize as number) < 1 || (chunkSize as number) > MAX_CHUNK_SIZE) {
    throw invalidConfig('chunk_size', `must be an integer from 1 to ${MAX_CHUNK_SIZE}`, chunkSize);
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

  return {
    strategy: strategy as ChunkingStrategy,
    chunk_size: chunkSize as number,
    chunk_overlap: chunkOverlap as number,
    ...(separators !== undefined ? { separators: [...(separators as string[])] } : {}),
  };
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
