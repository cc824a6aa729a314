// End of a sentence: terminal punctuation followed by whitespace, or CJK terminal punctuation
// (ideographic, fullwidth and halfwidth full stops, fullwidth exclamation and question marks),
// which needs no whitespace after it. Closing quotes and brackets right after the punctuation
// stay with the sentence. The first group also takes the Devanagari danda (U+0964, U+0965)
// and the Arabic question mark and full stop (U+061F, U+06D4).
const SENTENCE_END =
  /([.!?\u2026\u0964\u0965\u061F\u06D4]+)["'\u2019\u201D\u00BB)\]]*\s+|[\u3002\uFF0E\uFF61\uFF01\uFF1F]+["'\u2019\u201D\u300D\u300F)\]\uFF09]*\s*/g;

/** Blank line: a line break, optional spaces or tabs, another line break, then any whitespace. */
export const PARAGRAPH_BREAK = /\n[ \t]*\n\s*/g;

// Abbreviations (lowercase, without the final period) after which a period never ends a
// sentence: titles, Latin abbreviations and "et al.".
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'st', 'mt', 'gen', 'col', 'lt', 'sgt', 'capt', 'rev', 'hon', 'gov',
  'sen', 'rep', 'vs', 'cf', 'e.g', 'i.e', 'viz', 'al', 'approx', 'ca', 'incl', 'esp', 'resp', 'dept', 'univ',
]);

// Abbreviations that do not end a sentence when a number follows: "No. 5", "Fig. 3", "Jan. 12".
const NUMBER_ABBREVIATIONS = new Set([
  'no', 'nos', 'vol', 'vols', 'fig', 'figs', 'eq', 'eqs', 'p', 'pp', 'ch', 'sec', 'art', 'ref', 'tab',
  'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec',
]);

// Letters with periods between them, such as "U.S" or "a.m" (the final period is not part of the word).
const DOTTED_ACRONYM = /^(?:\p{L}\.)+\p{L}$/u;
const SINGLE_CAPITAL = /^\p{Lu}$/u;
const LOWERCASE_START = /^\p{Ll}/u;
const DIGIT_START = /^\p{Nd}/u;
const OPENING_PUNCTUATION = /^["'\u2018\u201C\u00AB([]+/;

/**
 * Returns the positions in `[start, end)` of `text` where a sentence starts after the end of
 * the previous one, in increasing order. A period does not end a sentence after a known
 * abbreviation ("Dr.", "e.g.", "et al."), after a dotted acronym ("U.S."), after a single
 * capital letter (an initial, as in "John F. Kennedy"), or before a lowercase letter.
 * NOTE: these are English-centred guesses. "in the U.S. The next" stays one sentence, and
 * "plan B. Then" is not split either.
 */
export function findSentenceStarts(text: string, start: number, end: number): number[] {
  const span = text.slice(start, end);
  const starts: number[] = [];
  for (const match of span.matchAll(SENTENCE_END)) {
    const next = match.index + match[0].length;
    if (next <= 0 || next >= span.length) {
      continue;
    }
    const punctuation = match[1];
    if (punctuation !== undefined && !endsSentence(span, match.index, punctuation, next)) {
      continue;
    }
    starts.push(start + next);
  }
  return starts;
}

/** Returns the positions in `[start, end)` where a paragraph starts after a blank line. */
export function findParagraphStarts(text: string, start: number, end: number): number[] {
  const span = text.slice(start, end);
  const starts: number[] = [];
  for (const match of span.matchAll(PARAGRAPH_BREAK)) {
    const next = match.index + match[0].length;
    if (next > 0 && next < span.length) {
      starts.push(start + next);
    }
  }
  return starts;
}

/**
 * Decides whether Western punctuation at `punctuationStart` ends a sentence, given the word
 * before it and the text that follows at `next`.
 */
function endsSentence(span: string, punctuationStart: number, punctuation: string, next: number): boolean {
  const following = span.slice(next, next + 8).replace(OPENING_PUNCTUATION, '');
  if (LOWERCASE_START.test(following)) {
    return false;
  }
  if (punctuation !== '.') {
    return true;
  }

  let wordStart = punctuationStart;
  while (wordStart > 0 && !/\s/.test(span[wordStart - 1]) && punctuationStart - wordStart < 40) {
    wordStart -= 1;
  }
  const word = span.slice(wordStart, punctuationStart).replace(OPENING_PUNCTUATION, '');
  const lower = word.toLowerCase();
  if (ABBREVIATIONS.has(lower) || DOTTED_ACRONYM.test(word) || SINGLE_CAPITAL.test(word)) {
    return false;
  }
  return !(NUMBER_ABBREVIATIONS.has(lower) && DIGIT_START.test(following));
}
