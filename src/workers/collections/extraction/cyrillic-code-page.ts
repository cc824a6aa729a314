import * as iconv from 'iconv-lite';

// chardet 2 has no model for IBM866 (DOS Cyrillic) and often scores Cyrillic single-byte
// text below Greek or Latin code pages, so Cyrillic candidates are checked directly.
const CYRILLIC_CODE_PAGES = ['windows-1251', 'cp866', 'koi8-r', 'koi8-u', 'iso-8859-5'] as const;

// The 18 most frequent letters of Russian prose; Ukrainian and Bulgarian text scores
// almost as high, while Greek or Hebrew bytes misread as Cyrillic score well below.
const FREQUENT_CYRILLIC_LETTERS = new Set('оеаинтсрвлкмдпуяыь');

const SAMPLE_BYTES = 64 * 1024;
const MIN_NON_ASCII_BYTES = 8;

// These thresholds separate the right code page from the others by a wide margin on short
// Russian, Ukrainian and Bulgarian samples. They were tuned by hand, so they are estimates.
const MIN_NON_LATIN_WORD_SHARE = 0.7;
const MIN_CYRILLIC_SHARE = 0.9;
// Limitation: text written mostly in capitals fails this check and falls back to chardet.
const MIN_LOWERCASE_SHARE = 0.6;
const MIN_FREQUENT_LETTER_SHARE = 0.7;

/**
 * Returns the Cyrillic code page that decodes `data` into plausible Cyrillic prose, or
 * undefined. Expects bytes that are not valid UTF-8.
 */
export function detectCyrillicCodePage(data: Buffer): string | undefined {
  const sample = data.subarray(0, SAMPLE_BYTES);
  if (nonLatinWordShare(sample) < MIN_NON_LATIN_WORD_SHARE) {
    return undefined;
  }

  let best: { codePage: string; score: number } | undefined;
  for (const codePage of CYRILLIC_CODE_PAGES) {
    const score = scoreCyrillicDecoding(iconv.decode(sample, codePage));
    if (score !== undefined && (best === undefined || score > best.score)) {
      best = { codePage, score };
    }
  }
  return best?.codePage;
}

/**
 * Computes the share of bytes >= 0x80 inside words that contain any. Words of a non-Latin
 * script in a single-byte code page consist of such bytes only. Accented Latin letters sit
 * alone among ASCII letters, so Latin text gives a low share.
 */
function nonLatinWordShare(sample: Buffer): number {
  let highBytes = 0;
  let wordBytes = 0;
  let currentHigh = 0;
  let currentLength = 0;

  const endWord = (): void => {
    if (currentHigh > 0) {
      highBytes += currentHigh;
      wordBytes += currentLength;
    }
    currentHigh = 0;
    currentLength = 0;
  };

  for (const byte of sample) {
    const isAsciiLetter = (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
    if (byte >= 0x80) {
      currentHigh += 1;
      currentLength += 1;
    } else if (isAsciiLetter) {
      currentLength += 1;
    } else {
      endWord();
    }
  }
  endWord();

  return highBytes < MIN_NON_ASCII_BYTES ? 0 : highBytes / wordBytes;
}

/** Scores a decoding by how much its non-ASCII characters look like Cyrillic prose. */
function scoreCyrillicDecoding(decoded: string): number | undefined {
  let nonAscii = 0;
  let cyrillic = 0;
  let lowercase = 0;
  let frequent = 0;

  for (const character of decoded) {
    if (character.charCodeAt(0) < 0x80) {
      continue;
    }
    nonAscii += 1;
    if (character < '\u0400' || character > '\u04ff') {
      continue;
    }
    cyrillic += 1;
    const lower = character.toLowerCase();
    if (lower === character) {
      lowercase += 1;
    }
    if (FREQUENT_CYRILLIC_LETTERS.has(lower)) {
      frequent += 1;
    }
  }

  if (cyrillic === 0) {
    return undefined;
  }
  const cyrillicShare = cyrillic / nonAscii;
  const lowercaseShare = lowercase / cyrillic;
  const frequentShare = frequent / cyrillic;
  const plausible =
    cyrillicShare >= MIN_CYRILLIC_SHARE &&
    lowercaseShare >= MIN_LOWERCASE_SHARE &&
    frequentShare >= MIN_FREQUENT_LETTER_SHARE;
  return plausible ? cyrillicShare + lowercaseShare + frequentShare : undefined;
}
