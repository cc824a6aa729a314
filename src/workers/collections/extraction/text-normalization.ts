export interface NormalizeOptions {
  /** Keep leading indentation and inner runs of spaces (Markdown code and nested lists). */
  preserveSpacing?: boolean;
}

// Arabic and Hebrew presentation forms and Latin ligatures (U+FB00-U+FDFF, U+FE70-U+FEFE)
// exist only for compatibility with old encodings; PDF fonts often map glyphs to them, and
// search needs the base letters, so these ranges alone get NFKC. U+FEFF is removed below.
const PRESENTATION_FORMS = /[\uFB00-\uFDFF\uFE70-\uFEFE]+/g;

// C0 and C1 control characters except tab (U+0009) and line feed (U+000A), which carry layout.
// Form feed, vertical tab and carriage return are converted to line breaks before this runs.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

// Invisible format characters, which split words for search without changing the rendered
// text: soft hyphen, zero-width space, bidi marks and embeddings, byte order mark.
const INVISIBLE_FORMAT_CHARACTERS = /[\u00AD\u200B\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;

// Space separators other than U+0020, such as no-break space and ideographic space.
const OTHER_SPACES = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;

/**
 * Normalises extracted text for chunking and embedding: Unicode NFC, line breaks as `\n`,
 * control and invisible format characters removed, space runs collapsed, and blank lines
 * kept as paragraph breaks (runs of them become exactly one). Tabs are kept.
 */
export function normalizeText(raw: string, options: NormalizeOptions = {}): string {
  let text = raw
    .replace(/\r\n?/g, '\n')
    .replace(/[\f\u2029]/g, '\n\n')
    .replace(/[\u000B\u2028\u0085]/g, '\n')
    .replace(PRESENTATION_FORMS, (forms) => forms.normalize('NFKC'))
    .normalize('NFC')
    .replace(CONTROL_CHARACTERS, '')
    .replace(INVISIBLE_FORMAT_CHARACTERS, '')
    .replace(OTHER_SPACES, ' ');

  // Lines are trimmed one by one because a /[ \t]+$/m regex backtracks quadratically on long
  // runs of spaces that do not end a line.
  const lines = text.split('\n').map((line) => (options.preserveSpacing ? trimEndSpaces(line) : trimSpaces(line)));
  text = lines.join('\n');
  if (!options.preserveSpacing) {
    text = text.replace(/ {2,}/g, ' ');
  }

  return text.replace(/\n{3,}/g, '\n\n').replace(/^\n+/, '').replace(/\n+$/, '');
}

function isSpaceOrTab(character: string): boolean {
  return character === ' ' || character === '\t';
}

function trimEndSpaces(line: string): string {
  let end = line.length;
  while (end > 0 && isSpaceOrTab(line[end - 1])) end -= 1;
  return end === line.length ? line : line.slice(0, end);
}

function trimSpaces(line: string): string {
  const trimmedEnd = trimEndSpaces(line);
  let start = 0;
  while (start < trimmedEnd.length && isSpaceOrTab(trimmedEnd[start])) start += 1;
  return start === 0 ? trimmedEnd : trimmedEnd.slice(start);
}

/** Normalises a one-line value such as a title: all whitespace runs become one space. */
export function normalizeInlineText(raw: string): string {
  return normalizeText(raw).replace(/\s+/g, ' ').trim();
}
