/**
 * Token estimates, truncation and batch planning shared by the HTTP embedders. The
 * estimate needs no tokenizer for the provider's model, so it works for any model.
 */

/** Bytes of UTF-8 counted as one token by `estimateTokens`. */
export const BYTES_PER_TOKEN_ESTIMATE = 3;

export type TruncationStrategy = 'end' | 'start' | 'none';

/** One text ready to send, with its position in the caller's input. */
export interface PreparedInput {
  index: number;
  text: string;
  estimatedTokens: number;
}

/**
 * Estimates the token count of `text` as ceil(UTF-8 bytes / 3). This is an estimate, not a
 * tokenizer count. Subword tokenizers such as OpenAI's cl100k average about 4 bytes of
 * English per token, so the estimate is usually high, which keeps batches under the caps.
 * NOTE: text that tokenizes badly (long digit runs, random identifiers, rare scripts) can
 * take more tokens than estimated.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / BYTES_PER_TOKEN_ESTIMATE);
}

/**
 * Cuts `text` so that its estimate is at most `maxTokens`, never splitting a code point.
 * `end` removes text from the end (keeps the start), `start` removes text from the start.
 */
export function truncateToTokens(text: string, maxTokens: number, strategy: 'end' | 'start'): string {
  const maxBytes = maxTokens * BYTES_PER_TOKEN_ESTIMATE;
  const codePoints = Array.from(text);
  let bytes = 0;

  if (strategy === 'end') {
    let keptCount = 0;
    while (keptCount < codePoints.length && bytes + utf8Length(codePoints[keptCount]) <= maxBytes) {
      bytes += utf8Length(codePoints[keptCount]);
      keptCount += 1;
    }
    return codePoints.slice(0, keptCount).join('');
  }

  let firstKept = codePoints.length;
  while (firstKept > 0 && bytes + utf8Length(codePoints[firstKept - 1]) <= maxBytes) {
    bytes += utf8Length(codePoints[firstKept - 1]);
    firstKept -= 1;
  }
  return codePoints.slice(firstKept).join('');
}

/**
 * Splits inputs, in order, into batches of at most `maxInputs` texts and at most
 * `maxTokens` estimated tokens. Every input must fit `maxTokens` alone, which the
 * truncation step ensures.
 */
export function planBatches(inputs: PreparedInput[], maxInputs: number, maxTokens: number): PreparedInput[][] {
  const batches: PreparedInput[][] = [];
  let current: PreparedInput[] = [];
  let currentTokens = 0;

  for (const input of inputs) {
    const full = current.length >= maxInputs || currentTokens + input.estimatedTokens > maxTokens;
    if (current.length > 0 && full) {
      batches.push(current);
      current = [];
      currentTokens = 0;
    }
    current.push(input);
    currentTokens += input.estimatedTokens;
  }
  if (current.length > 0) {
    batches.push(current);
  }
  return batches;
}

/** Returns the UTF-8 length of one code point (a string of one or two UTF-16 units). */
function utf8Length(codePoint: string): number {
  const value = codePoint.codePointAt(0) as number;
  if (value < 0x80) {
    return 1;
  }
  if (value < 0x800) {
    return 2;
  }
  return value < 0x10000 ? 3 : 4;
}
