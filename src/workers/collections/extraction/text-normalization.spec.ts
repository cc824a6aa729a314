import { normalizeInlineText, normalizeText } from 'src/workers/collections/extraction/text-normalization';

describe('normalizeText', () => {
  it('composes to NFC', () => {
    expect(normalizeText('Cafe\u0301')).toBe('Café');
  });

  it('expands ligatures and Arabic presentation forms', () => {
    expect(normalizeText('\uFB01nd')).toBe('find');
    expect(normalizeText('\uFE8D\uFEDF\uFECC\uFEAE\uFE91\uFEF4\uFE93')).toBe('العربية');
  });

  it('removes control and invisible format characters', () => {
    expect(normalizeText('a\u0000b\u001Bc\u0085d\u200Be\u202Bf\u202C\u00ADg\uFEFF')).toBe('abc\ndefg');
  });

  it('keeps tabs and paragraph breaks', () => {
    expect(normalizeText('a\tb\n\n\n\nc\r\nd\re')).toBe('a\tb\n\nc\nd\ne');
  });

  it('turns form feeds into paragraph breaks', () => {
    expect(normalizeText('page one\fpage two')).toBe('page one\n\npage two');
  });

  it('collapses spaces and trims lines', () => {
    expect(normalizeText('  a  \u00A0 b  \n   \n\n  c\u3000d  ')).toBe('a b\n\nc d');
  });

  it('keeps indentation when asked', () => {
    expect(normalizeText('- a\n    - b  c   \n', { preserveSpacing: true })).toBe('- a\n    - b  c');
  });

  it('trims leading and trailing blank lines', () => {
    expect(normalizeText('\n\n \nbody\n \n')).toBe('body');
  });
});

describe('normalizeInlineText', () => {
  it('joins lines into one', () => {
    expect(normalizeInlineText('  Title\n\n  of\tthe page ')).toBe('Title of the page');
  });
});
