/*
 * A BERT WordPiece tokenizer in the Hugging Face `tokenizer.json` format, built from a word list
 * so tests need no downloaded vocabulary.
 */

export const PAD_TOKEN = '[PAD]';
export const UNK_TOKEN = '[UNK]';
export const CLS_TOKEN = '[CLS]';
export const SEP_TOKEN = '[SEP]';
export const MASK_TOKEN = '[MASK]';

/** Special tokens in id order: [PAD] is 0 through [MASK] is 4. */
const SPECIAL_TOKENS = [PAD_TOKEN, UNK_TOKEN, CLS_TOKEN, SEP_TOKEN, MASK_TOKEN];
const CONTINUATION_PREFIX = '##';

const LOWERCASE_LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
/** Every printable ASCII punctuation character. BertPreTokenizer splits each into its own word. */
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

export interface WordPieceTokenizerFiles {
  tokenizerJson: object;
  tokenizerConfig: object;
  specialTokensMap: object;
  /** Token to id, in id order. */
  vocab: Map<string, number>;
}

/**
 * Builds the files of a BERT WordPiece tokenizer with ids [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3,
 * [MASK]=4, then `words`, then single characters and their `##` continuations. The characters
 * cover ASCII letters, digits and punctuation, so any ASCII text tokenizes without [UNK].
 * With `lowercase` (the default) words are lowercased, matching what the normalizer feeds the model.
 */
export function buildWordPieceTokenizer(options: { words: string[]; lowercase?: boolean }): WordPieceTokenizerFiles {
  const lowercase = options.lowercase ?? true;
  const vocab = buildVocab(options.words, lowercase);

  const specialTokenIds = (token: string) => ({ id: token, ids: [vocab.get(token)!], tokens: [token] });
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content) => ({
      id: vocab.get(content)!,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: CLS_TOKEN, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: SEP_TOKEN, type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: CLS_TOKEN, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: SEP_TOKEN, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: SEP_TOKEN, type_id: 1 } },
      ],
      special_tokens: {
        [CLS_TOKEN]: specialTokenIds(CLS_TOKEN),
        [SEP_TOKEN]: specialTokenIds(SEP_TOKEN),
      },
    },
    decoder: { type: 'WordPiece', prefix: CONTINUATION_PREFIX, cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: UNK_TOKEN,
      continuing_subword_prefix: CONTINUATION_PREFIX,
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab),
    },
  };

  const tokenizerConfig = {
    model_max_length: 512,
    do_lower_case: lowercase,
    cls_token: CLS_TOKEN,
    sep_token: SEP_TOKEN,
    pad_token: PAD_TOKEN,
    unk_token: UNK_TOKEN,
    mask_token: MASK_TOKEN,
    tokenizer_class: 'BertTokenizer',
  };

  const specialTokensMap = {
    cls_token: CLS_TOKEN,
    mask_token: MASK_TOKEN,
    pad_token: PAD_TOKEN,
    sep_token: SEP_TOKEN,
    unk_token: UNK_TOKEN,
  };

  return { tokenizerJson, tokenizerConfig, specialTokensMap, vocab };
}

function buildVocab(words: string[], lowercase: boolean): Map<string, number> {
  const vocab = new Map<string, number>();
  const add = (token: string) => {
    if (!vocab.has(token)) {
      vocab.set(token, vocab.size);
    }
  };

  SPECIAL_TOKENS.forEach(add);
  for (const word of words) {
    if (word.length === 0 || /\s/.test(word)) {
      throw new Error(`invalid vocabulary word ${JSON.stringify(word)}: words must be non-empty and contain no whitespace`);
    }
    add(lowercase ? word.toLowerCase() : word);
  }

  // Without lowercasing the normalizer keeps capitals, so they need pieces of their own.
  const letters = lowercase ? LOWERCASE_LETTERS : LOWERCASE_LETTERS + LOWERCASE_LETTERS.toUpperCase();
  for (const character of letters + DIGITS) {
    add(CONTINUATION_PREFIX + character);
  }
  for (const character of letters + DIGITS + PUNCTUATION) {
    add(character);
  }
  return vocab;
}
