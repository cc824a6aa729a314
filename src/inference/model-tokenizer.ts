import { Tokenizer } from '@huggingface/tokenizers';
import { InvalidInputError } from 'src/common/app-error';
import { isRecord } from 'src/common/is-record';
import { readOptionalJson } from 'src/inference/model-files';

/** Token ids of one model input, special tokens included. */
export interface EncodedInput {
  ids: number[];
  typeIds: number[];
}

/** One piece of a post-processing template: a special token or one of the two sequences. */
type TemplatePiece = { special: number[]; typeId: number } | { sequence: 'A' | 'B'; typeId: number };

interface SpecialTokenTemplate {
  single: TemplatePiece[];
  pair: TemplatePiece[];
}

/**
 * A model's tokenizer with truncation and special tokens applied here, because
 * @huggingface/tokenizers 0.2 neither truncates nor pads. Texts are encoded without special
 * tokens, cut to fit `maxLength`, then wrapped by the template of the tokenizer's post-processor.
 */
export class ModelTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly template: SpecialTokenTemplate,
    readonly maxLength: number,
    readonly padId: number,
  ) {}

  static async load(dir: string, maxLength: number): Promise<ModelTokenizer> {
    const json = (await readOptionalJson(dir, 'tokenizer.json')) as Record<string, unknown> | undefined;
    if (!isRecord(json)) {
      throw new InvalidInputError('model_tokenizer_invalid', 'tokenizer.json is missing or is not a JSON object');
    }
    const config = ((await readOptionalJson(dir, 'tokenizer_config.json')) ?? {}) as Record<string, unknown>;
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(json, config);
    } catch (error) {
      throw new InvalidInputError('model_tokenizer_invalid', `tokenizer.json cannot be loaded: ${(error as Error).message}`, undefined, {
        cause: error,
      });
    }
    const template = readTemplate(json.post_processor, tokenizer);
    const padId = tokenIdOf(tokenizer, config.pad_token) ?? tokenizer.token_to_id('[PAD]') ?? tokenizer.token_to_id('<pad>') ?? 0;
    const budget = Math.min(countSpecials(template.single), countSpecials(template.pair));
    if (maxLength <= budget + 1) {
      throw new InvalidInputError('model_config_invalid', `Model in ${dir} allows ${maxLength} tokens, too few for its special tokens`);
    }
    return new ModelTokenizer(tokenizer, template, maxLength, padId);
  }

  /** Encodes one text, truncated to `maxLength` tokens; `truncated` is true when text was cut. */
  encode(text: string): EncodedInput & { truncated: boolean } {
    const budget = this.maxLength - countSpecials(this.template.single);
    const { ids, cut } = this.tokenize(text);
    const keptIds = ids.length > budget ? ids.slice(0, budget) : ids;
    return { ...applyTemplate(this.template.single, keptIds, []), truncated: cut || keptIds.length < ids.length };
  }

  /**
   * Encodes a query and a document as one input for a cross-encoder. When the pair is too
   * long, the longer side loses tokens first, as Hugging Face's `longest_first` strategy does.
   */
  encodePair(first: string, second: string): EncodedInput {
    const budget = this.maxLength - countSpecials(this.template.pair);
    let a = this.tokenize(first).ids;
    let b = this.tokenize(second).ids;
    if (a.length + b.length > budget) {
      const excess = a.length + b.length - budget;
      const cutFromLonger = Math.min(excess, Math.abs(a.length - b.length));
      const rest = excess - cutFromLonger;
      const longerIsA = a.length >= b.length;
      let keepA = a.length - (longerIsA ? cutFromLonger : 0);
      let keepB = b.length - (longerIsA ? 0 : cutFromLonger);
      keepA -= Math.ceil(rest / 2);
      keepB -= Math.floor(rest / 2);
      a = a.slice(0, Math.max(keepA, 0));
      b = b.slice(0, Math.max(keepB, 0));
    }
    return applyTemplate(this.template.pair, a, b);
  }

  /** Number of tokens of `text` without special tokens, for usage reports. */
  countTokens(text: string): number {
    return this.tokenize(text).ids.length;
  }

  /**
   * Tokenizes without special tokens. A token covers a few characters, so text far beyond the
   * limit is never needed: cutting it first keeps a megabyte-long input from costing a full
   * tokenization. Runs of whitespace are collapsed before the cut, so padding cannot push the
   * words out, and `cut` reports any text the cut dropped.
   */
  private tokenize(text: string): { ids: number[]; cut: boolean } {
    // 16 characters per token is about three times the English average for WordPiece models.
    const limit = this.maxLength * 16;
    let input = text;
    let cut = false;
    if (input.length > limit) {
      input = input.replace(/\s+/g, ' ');
      if (input.length > limit) {
        cut = input.slice(limit).trim().length > 0;
        input = input.slice(0, limit);
      }
    }
    return { ids: this.tokenizer.encode(input, { add_special_tokens: false }).ids, cut };
  }
}

function countSpecials(pieces: TemplatePiece[]): number {
  return pieces.reduce((total, piece) => total + ('special' in piece ? piece.special.length : 0), 0);
}

function applyTemplate(pieces: TemplatePiece[], a: number[], b: number[]): EncodedInput {
  const ids: number[] = [];
  const typeIds: number[] = [];
  for (const piece of pieces) {
    let tokens: number[];
    if ('special' in piece) tokens = piece.special;
    else if (piece.sequence === 'A') tokens = a;
    else tokens = b;
    for (const token of tokens) {
      ids.push(token);
      typeIds.push(piece.typeId);
    }
  }
  return { ids, typeIds };
}

/**
 * Builds the special-token template from `post_processor` in tokenizer.json: TemplateProcessing
 * (BERT, BGE, MiniLM), BertProcessing, RobertaProcessing, a Sequence holding one of them, or none.
 */
function readTemplate(processor: unknown, tokenizer: Tokenizer): SpecialTokenTemplate {
  if (processor === null || processor === undefined) {
    return { single: [{ sequence: 'A', typeId: 0 }], pair: [{ sequence: 'A', typeId: 0 }, { sequence: 'B', typeId: 1 }] };
  }
  if (!isRecord(processor)) throw unsupportedProcessor('a non-object value');

  switch (processor.type) {
    case 'TemplateProcessing':
      return readTemplateProcessing(processor, tokenizer);
    case 'BertProcessing': {
      const [cls, sep] = [tupleId(processor.cls), tupleId(processor.sep)];
      return {
        single: [{ special: [cls], typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: [sep], typeId: 0 }],
        pair: [
          { special: [cls], typeId: 0 },
          { sequence: 'A', typeId: 0 },
          { special: [sep], typeId: 0 },
          { sequence: 'B', typeId: 1 },
          { special: [sep], typeId: 1 },
        ],
      };
    }
    case 'RobertaProcessing': {
      const [cls, sep] = [tupleId(processor.cls), tupleId(processor.sep)];
      return {
        single: [{ special: [cls], typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: [sep], typeId: 0 }],
        pair: [
          { special: [cls], typeId: 0 },
          { sequence: 'A', typeId: 0 },
          { special: [sep, sep], typeId: 0 },
          { sequence: 'B', typeId: 0 },
          { special: [sep], typeId: 0 },
        ],
      };
    }
    case 'Sequence': {
      const inner = Array.isArray(processor.processors) ? processor.processors.filter(isRecord) : [];
      const templating = inner.find((candidate) =>
        ['TemplateProcessing', 'BertProcessing', 'RobertaProcessing'].includes(String(candidate.type)),
      );
      if (templating) return readTemplate(templating, tokenizer);
      return readTemplate(null, tokenizer);
    }
    case 'ByteLevel':
      return readTemplate(null, tokenizer);
    default:
      throw unsupportedProcessor(String(processor.type));
  }
}

function readTemplateProcessing(processor: Record<string, unknown>, tokenizer: Tokenizer): SpecialTokenTemplate {
  const specialTokens = isRecord(processor.special_tokens) ? processor.special_tokens : {};
  const readPieces = (raw: unknown): TemplatePiece[] => {
    if (!Array.isArray(raw)) throw unsupportedProcessor('TemplateProcessing without a template list');
    return raw.filter(isRecord).map((piece): TemplatePiece => {
      if (isRecord(piece.SpecialToken)) {
        const name = String(piece.SpecialToken.id);
        const entry = specialTokens[name];
        const ids = isRecord(entry) && Array.isArray(entry.ids) ? entry.ids.map(Number) : [tokenizer.token_to_id(name)];
        if (ids.some((id) => id === undefined || Number.isNaN(id))) {
          throw unsupportedProcessor(`a template token ${name} that the vocabulary lacks`);
        }
        return { special: ids as number[], typeId: Number(piece.SpecialToken.type_id ?? 0) };
      }
      if (isRecord(piece.Sequence)) {
        return { sequence: piece.Sequence.id === 'B' ? 'B' : 'A', typeId: Number(piece.Sequence.type_id ?? 0) };
      }
      throw unsupportedProcessor('a template piece that is neither SpecialToken nor Sequence');
    });
  };
  return { single: readPieces(processor.single), pair: readPieces(processor.pair) };
}

function tupleId(value: unknown): number {
  if (Array.isArray(value) && typeof value[1] === 'number') return value[1];
  throw unsupportedProcessor('a special token without an id');
}

function tokenIdOf(tokenizer: Tokenizer, token: unknown): number | undefined {
  if (typeof token === 'string') return tokenizer.token_to_id(token);
  if (isRecord(token) && typeof token.content === 'string') return tokenizer.token_to_id(token.content);
  return undefined;
}

function unsupportedProcessor(feature: string): InvalidInputError {
  return new InvalidInputError('model_tokenizer_unsupported', `tokenizer.json has a post_processor with ${feature}, which is not supported`);
}
