import * as iconv from 'iconv-lite';

import { canonicalCharset, decodeText } from 'src/workers/collections/extraction/text-decoding';

const RUSSIAN =
  'Мороз и солнце; день чудесный! Еще ты дремлешь, друг прелестный. Пора, красавица, проснись: открой сомкнуты негой взоры.';
const UKRAINIAN = 'Реве та стогне Дніпр широкий, сердитий вітер завива, додолу верби гне високі, горами хвилю підійма.';
const GREEK =
  'Η ελληνική γλώσσα είναι μία από τις αρχαιότερες γλώσσες της Ευρώπης και ομιλείται σήμερα από εκατομμύρια ανθρώπους.';
const SPANISH = 'El niño comió paella con ñoquis. La señora dijo: ¡Qué rico! y pagó la cuenta del menú del día.';

describe('decodeText', () => {
  it.each([
    ['cp866', RUSSIAN],
    ['windows-1251', RUSSIAN],
    ['koi8-r', RUSSIAN],
    ['iso-8859-5', RUSSIAN],
    ['windows-1251', UKRAINIAN],
  ])('detects %s Cyrillic text', (encoding, text) => {
    const decoded = decodeText(iconv.encode(text, encoding));

    expect(decoded.text).toBe(text);
    expect(decoded.encoding).toBe(encoding);
  });

  it('leaves Greek text to chardet', () => {
    const decoded = decodeText(iconv.encode(GREEK, 'iso-8859-7'));

    expect(decoded.text).toBe(GREEK);
  });

  it('decodes Western European text as windows-1252', () => {
    const decoded = decodeText(iconv.encode(`${SPANISH} Precio: 5 €`, 'windows-1252'));

    expect(decoded.text).toBe(`${SPANISH} Precio: 5 €`);
    expect(decoded.encoding).toBe('windows-1252');
  });

  it('prefers valid UTF-8 to a wrong declaration', () => {
    const decoded = decodeText(Buffer.from(RUSSIAN, 'utf8'), 'iso-8859-1');

    expect(decoded).toEqual({ text: RUSSIAN, encoding: 'utf-8' });
  });

  it('strips byte order marks', () => {
    expect(decodeText(Buffer.from('\uFEFFhello', 'utf8'))).toEqual({ text: 'hello', encoding: 'utf-8' });
    expect(decodeText(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hi', 'utf16le')]))).toEqual({
      text: 'hi',
      encoding: 'utf-16le',
    });
    expect(decodeText(Buffer.from([0xfe, 0xff, 0x00, 0x68, 0x00, 0x69]))).toEqual({ text: 'hi', encoding: 'utf-16be' });
  });

  it('detects UTF-16 without a byte order mark', () => {
    expect(decodeText(Buffer.from('plain ASCII text in UTF-16', 'utf16le'))).toEqual({
      text: 'plain ASCII text in UTF-16',
      encoding: 'utf-16le',
    });
    const bigEndian = Buffer.from('plain ASCII text in UTF-16', 'utf16le').swap16();
    expect(decodeText(bigEndian).encoding).toBe('utf-16be');
  });
});

describe('canonicalCharset', () => {
  it('maps labels to iconv-lite names', () => {
    expect(canonicalCharset('UTF8')).toBe('utf-8');
    expect(canonicalCharset('"ISO-8859-1"')).toBe('windows-1252');
    expect(canonicalCharset('IBM866')).toBe('ibm866');
    expect(canonicalCharset('no-such-charset')).toBeUndefined();
  });
});

describe('decodeText with an untrusted declaration', () => {
  it.each(['utf-32', 'utf-7', 'utf-16'])('ignores %s declared for ASCII bytes', (charset) => {
    expect(decodeText(Buffer.from('plain ascii page'), charset).text).toBe('plain ascii page');
  });
});
