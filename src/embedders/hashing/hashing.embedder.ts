import { InvalidInputError } from 'src/common/app-error';
import { Embedder, EmbeddingPurpose } from 'src/embedders/embedder';
import { murmurHash3 } from 'src/embedders/hashing/murmur3';

export interface HashingEmbedderOptions {
  /** Vector length, an integer from 8 to 8,192. Default 384. */
  dimensions?: number;
  /** Maximum number of consecutive words hashed as one feature, 1 to 5. Default 2 (unigrams and bigrams). */
  wordNgrams?: number;
  /** Shortest and longest character n-gram taken from each word, 1 to 10. Default [3, 5]. */
  charNgrams?: [number, number];
}

export const MIN_HASHING_DIMENSIONS = 8;
export const MAX_HASHING_DIMENSIONS = 8192;

// Different seeds make the bucket and the sign of a feature independent hash values.
const BUCKET_SEED = 0x2f0b3a1d;
const SIGN_SEED = 0x9747b28c;

// Relative weights, chosen by hand: whole words carry the meaning, and a word yields many
// character n-grams, which would drown the words at equal weight. Character n-grams
// still let inflections and typos ("embedding", "embeddings", "embeding") overlap.
const WORD_WEIGHT = 1;
const WORD_NGRAM_WEIGHT = 0.7;
const CHAR_NGRAM_WEIGHT = 0.25;

// Han, Hiragana and Katakana are written without spaces, so each character is a token
// and word bigrams pair neighbouring characters.
const CJK = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}';
const TOKEN_PATTERN = new RegExp(`[${CJK}]|(?:(?![${CJK}])[\\p{L}\\p{M}\\p{N}])+`, 'gu');

/**
 * Lexical embedder that needs no model: signed feature hashing of word n-grams and
 * character n-grams with sublinear term frequency, L2-normalised.
 *
 * Text is NFKC-normalised and lowercased, then split into words of letters, marks and
 * digits of any script. Each feature adds `weight * (1 + ln tf)` to the bucket chosen by
 * one MurmurHash3 value, with the sign chosen by a second one. Output depends only on the
 * text and the options, so it is the same in every process and on every machine.
 *
 * Texts that share words or word parts score high; synonyms without shared letters
 * score near 0. `purpose` is ignored because documents and queries are treated alike.
 */
export class HashingEmbedder implements Embedder {
  readonly dimensions: number;
  private readonly wordNgrams: number;
  private readonly charNgramRange: [number, number];
  private readonly encoder = new TextEncoder();

  constructor(options: HashingEmbedderOptions = {}) {
    const dimensions = options.dimensions ?? 384;
    if (!Number.isInteger(dimensions) || dimensions < MIN_HASHING_DIMENSIONS || dimensions > MAX_HASHING_DIMENSIONS) {
      throw new InvalidInputError(
        'invalid_embedding_dimensions',
        `Invalid hashing embedder dimensions ${String(dimensions)}: expected an integer from ${MIN_HASHING_DIMENSIONS} to ${MAX_HASHING_DIMENSIONS}.`,
        { dimensions },
      );
    }
    const wordNgrams = options.wordNgrams ?? 2;
    if (!Number.isInteger(wordNgrams) || wordNgrams < 1 || wordNgrams > 5) {
      throw new InvalidInputError(
        'invalid_embedder_options',
        `Invalid hashing embedder wordNgrams ${String(wordNgrams)}: expected an integer from 1 to 5.`,
        { wordNgrams },
      );
    }
    const charNgrams = options.charNgrams ?? [3, 5];
    const [minChars, maxChars] = Array.isArray(charNgrams) ? charNgrams : [Number.NaN, Number.NaN];
    const validRange =
      Number.isInteger(minChars) && Number.isInteger(maxChars) && minChars >= 1 && minChars <= maxChars && maxChars <= 10;
    if (!validRange) {
      throw new InvalidInputError(
        'invalid_embedder_options',
        `Invalid hashing embedder charNgrams ${JSON.stringify(charNgrams)}: expected [min, max] integers with 1 <= min <= max <= 10.`,
        { charNgrams },
      );
    }
    this.dimensions = dimensions;
    this.wordNgrams = wordNgrams;
    this.charNgramRange = [minChars, maxChars];
  }

  async embed(texts: string[], purpose: EmbeddingPurpose): Promise<number[][]> {
    if (purpose !== 'document' && purpose !== 'query') {
      throw new InvalidInputError('invalid_embedding_purpose', `Invalid embedding purpose ${JSON.stringify(purpose)}: expected "document" or "query".`);
    }
    if (!Array.isArray(texts)) {
      throw new InvalidInputError('invalid_embedding_input', 'Texts to embed must be an array of strings.');
    }
    return texts.map((text, index) => {
      if (typeof text !== 'string') {
        throw new InvalidInputError(
          'invalid_embedding_input',
          `Text at index ${index} is ${text === null ? 'null' : typeof text}, expected a string.`,
          { index },
        );
      }
      return this.embedText(text);
    });
  }

  /** Returns the unit-length vector of one text, or a zero vector when it has no words. */
  embedText(text: string): number[] {
    const vector = new Float64Array(this.dimensions);
    for (const [feature, { count, weight }] of this.countFeatures(tokenize(text))) {
      const bytes = this.encoder.encode(feature);
      const bucket = murmurHash3(bytes, BUCKET_SEED) % this.dimensions;
      const sign = (murmurHash3(bytes, SIGN_SEED) & 1) === 0 ? 1 : -1;
      vector[bucket] += sign * weight * (1 + Math.log(count));
    }

    let sumOfSquares = 0;
    for (const value of vector) {
      sumOfSquares += value * value;
    }
    const norm = Math.sqrt(sumOfSquares);
    return Array.from(vector, (value) => (norm === 0 ? 0 : value / norm));
  }

  /**
   * Counts features by their text. A one-letter prefix per kind keeps a word, a word
   * n-gram and a character n-gram with the same letters apart.
   */
  private countFeatures(tokens: string[]): Map<string, { count: number; weight: number }> {
    const features = new Map<string, { count: number; weight: number }>();
    const add = (feature: string, weight: number) => {
      const entry = features.get(feature);
      if (entry) {
        entry.count += 1;
      } else {
        features.set(feature, { count: 1, weight });
      }
    };

    const [minChars, maxChars] = this.charNgramRange;
    for (let index = 0; index < tokens.length; index += 1) {
      add(`w ${tokens[index]}`, WORD_WEIGHT);
      for (let length = 2; length <= this.wordNgrams && index + length <= tokens.length; length += 1) {
        add(`n ${tokens.slice(index, index + length).join(' ')}`, WORD_NGRAM_WEIGHT);
      }
      // "<" and ">" mark the word boundaries, so prefixes and suffixes get their own n-grams.
      const characters = Array.from(`<${tokens[index]}>`);
      for (let length = minChars; length <= maxChars; length += 1) {
        for (let start = 0; start + length <= characters.length; start += 1) {
          add(`c ${characters.slice(start, start + length).join('')}`, CHAR_NGRAM_WEIGHT);
        }
      }
    }
    return features;
  }
}

/** Splits text into lowercase words. Exported for tests. */
export function tokenize(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(TOKEN_PATTERN) ?? [];
}
