import * as chardet from 'chardet';
import * as iconv from 'iconv-lite';

import { detectCyrillicCodePage } from 'src/workers/collections/extraction/cyrillic-code-page';

export interface DecodedText {
  text: string;
  /** Name of the encoding used, as iconv-lite spells it (for example `utf-8`, `cp866`). */
  encoding: string;
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];
const UTF16LE_BOM = [0xff, 0xfe];
const UTF16BE_BOM = [0xfe, 0xff];

const UTF16_SNIFF_BYTES = 4096;

// chardet reports ISO-8859-1 for most Western European text. Browsers decode that label as
// windows-1252 (WHATWG Encoding Standard), which differs only in 0x80-0x9F: printable
// characters such as the euro sign instead of C1 control codes.
const CHARSET_ALIASES: Record<string, string> = {
  'iso-8859-1': 'windows-1252',
  latin1: 'windows-1252',
  'us-ascii': 'windows-1252',
  ascii: 'windows-1252',
};

/**
 * Decodes text bytes, trying in order: the byte order mark, UTF-8, `declaredCharset` (from a
 * Content-Type parameter or an HTML meta tag), UTF-16 without a BOM, ASCII, Cyrillic code
 * pages, chardet's best guess, and windows-1252 as the last resort.
 * Valid UTF-8 that is not plain ASCII wins over the declaration, because legacy text almost
 * never forms valid multi-byte sequences by chance, while pages often declare the wrong charset.
 */
const UNTRUSTED_DECLARATIONS = /^(utf-?7|utf-?32|utf-?16)/i;

export function decodeText(data: Buffer, declaredCharset?: string): DecodedText {
  const fromBom = decodeByBom(data);
  if (fromBom) {
    return fromBom;
  }

  const utf8 = decodeStrictUtf8(data);
  if (utf8 !== undefined && !isAscii(data)) {
    return { text: utf8, encoding: 'utf-8' };
  }

  // A declaration of UTF-7 or UTF-32 is ignored, as browsers do, because the WHATWG Encoding
  // Standard has neither. UTF-16 without a BOM is trusted only when the bytes look like it
  // (below). Otherwise a wrong meta tag turns a plain ASCII page into garbage.
  const declared = canonicalCharset(declaredCharset);
  if (declared && declared !== 'utf-8' && !UNTRUSTED_DECLARATIONS.test(declared)) {
    return { text: iconv.decode(data, declared), encoding: declared };
  }

  // UTF-16 text of Latin script is also valid 7-bit data because its high bytes are zero.
  const utf16 = detectBomlessUtf16(data);
  if (utf16) {
    return { text: iconv.decode(data, utf16), encoding: utf16 };
  }
  if (utf8 !== undefined) {
    return { text: utf8, encoding: 'utf-8' };
  }

  const encoding = detectCyrillicCodePage(data) ?? guessWithChardet(data) ?? 'windows-1252';
  return { text: iconv.decode(data, encoding), encoding };
}

/**
 * Maps a charset label to the name iconv-lite uses, or undefined when iconv-lite does not
 * support it.
 */
export function canonicalCharset(label: string | undefined): string | undefined {
  if (!label) {
    return undefined;
  }
  const lowered = label.trim().replace(/^["']|["']$/g, '').toLowerCase();
  const name = CHARSET_ALIASES[lowered] ?? lowered;
  if (!iconv.encodingExists(name)) {
    return undefined;
  }
  return name === 'utf8' ? 'utf-8' : name;
}

function startsWithBytes(data: Buffer, prefix: number[]): boolean {
  return data.length >= prefix.length && prefix.every((byte, index) => data[index] === byte);
}

function decodeByBom(data: Buffer): DecodedText | undefined {
  if (startsWithBytes(data, UTF8_BOM)) {
    return { text: data.subarray(UTF8_BOM.length).toString('utf8'), encoding: 'utf-8' };
  }
  if (startsWithBytes(data, UTF16LE_BOM)) {
    return { text: iconv.decode(data.subarray(UTF16LE_BOM.length), 'utf-16le'), encoding: 'utf-16le' };
  }
  if (startsWithBytes(data, UTF16BE_BOM)) {
    return { text: iconv.decode(data.subarray(UTF16BE_BOM.length), 'utf-16be'), encoding: 'utf-16be' };
  }
  return undefined;
}

function isAscii(data: Buffer): boolean {
  return data.every((byte) => byte < 0x80);
}

function decodeStrictUtf8(data: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return undefined;
  }
}

/**
 * Recognises BOM-less UTF-16 by its zero bytes, which fill every other position when most
 * characters are ASCII. Limitation: BOM-less UTF-16 of non-Latin scripts has few zero bytes
 * and is left to chardet.
 */
function detectBomlessUtf16(data: Buffer): 'utf-16le' | 'utf-16be' | undefined {
  const sample = data.subarray(0, UTF16_SNIFF_BYTES - (UTF16_SNIFF_BYTES % 2));
  const pairs = Math.floor(sample.length / 2);
  if (pairs < 2) {
    return undefined;
  }

  let zeroEven = 0;
  let zeroOdd = 0;
  for (let index = 0; index + 1 < sample.length; index += 2) {
    if (sample[index] === 0) zeroEven += 1;
    if (sample[index + 1] === 0) zeroOdd += 1;
  }

  if (zeroOdd / pairs > 0.3 && zeroEven / pairs < 0.05) {
    return 'utf-16le';
  }
  if (zeroEven / pairs > 0.3 && zeroOdd / pairs < 0.05) {
    return 'utf-16be';
  }
  return undefined;
}

function guessWithChardet(data: Buffer): string | undefined {
  for (const match of chardet.analyse(data)) {
    const name = canonicalCharset(match.name);
    // UTF-8 and BOM-marked UTF-16 were ruled out above, so chardet's Unicode guesses are wrong here.
    if (name && !name.startsWith('utf')) {
      return name;
    }
  }
  return undefined;
}
