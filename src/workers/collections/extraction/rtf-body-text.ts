import * as iconv from 'iconv-lite';

// Destination groups whose content is not body text (RTF 1.9.1 specification).
const SKIPPED_DESTINATIONS = new Set([
  'fonttbl',
  'colortbl',
  'stylesheet',
  'info',
  'pict',
  'object',
  'header',
  'footer',
  'headerl',
  'headerr',
  'footerl',
  'footerr',
  'fldinst',
  'themedata',
  'colorschememapping',
  'latentstyles',
  'datastore',
  'listtable',
  'listoverridetable',
  'rsidtbl',
  'xmlnstbl',
  'generator',
]);

const SYMBOLS: Record<string, string> = {
  par: '\n',
  line: '\n',
  sect: '\n\n',
  page: '\n\n',
  row: '\n',
  cell: ' | ',
  tab: '\t',
  emdash: '—',
  endash: '–',
  bullet: '•',
  lquote: '‘',
  rquote: '’',
  ldblquote: '“',
  rdblquote: '”',
};

interface GroupState {
  skip: boolean;
  /** Characters that follow a `\u` escape as its fallback for readers without Unicode. */
  unicodeSkip: number;
}

/**
 * Turns an RTF document into plain text: paragraphs, `\u` escapes and `\'hh` bytes in the
 * document's ANSI code page are kept, while font and style tables, pictures, field
 * instructions and ignorable `\*` destinations are dropped. In HTML-encapsulated RTF, as
 * Outlook writes (`\fromhtml1`), the `\htmlrtf` runs that exist only for RTF readers are dropped.
 * Limitation: tables come out as cell text separated by ` | `, and list numbers and field
 * results that are computed at display time are missing.
 */
export function rtfToText(rtf: Buffer): string {
  const source = rtf.toString('latin1');
  let codePage = 'windows-1252';
  const output: string[] = [];
  let pendingBytes: number[] = [];
  const stack: GroupState[] = [];
  let state: GroupState = { skip: false, unicodeSkip: 1 };
  let htmlRtfOnly = false;
  let skipFallback = 0;

  const flushBytes = (): void => {
    if (pendingBytes.length > 0) {
      output.push(iconv.decode(Buffer.from(pendingBytes), codePage));
      pendingBytes = [];
    }
  };
  const emit = (text: string): void => {
    if (!state.skip && !htmlRtfOnly) {
      flushBytes();
      output.push(text);
    }
  };

  for (let index = 0; index < source.length; index += 1) {
    const character = source[index];
    if (character === '{') {
      stack.push(state);
      state = { ...state };
      continue;
    }
    if (character === '}') {
      state = stack.pop() ?? state;
      continue;
    }
    if (character === '\r' || character === '\n') {
      continue;
    }
    if (character !== '\\') {
      if (skipFallback > 0) {
        skipFallback -= 1;
      } else {
        emit(character);
      }
      continue;
    }

    const next = source[index + 1];
    if (next === "'") {
      const byte = parseInt(source.slice(index + 2, index + 4), 16);
      index += 3;
      if (skipFallback > 0) {
        skipFallback -= 1;
      } else if (!state.skip && !htmlRtfOnly && !Number.isNaN(byte)) {
        pendingBytes.push(byte);
      }
      continue;
    }
    if (next === '*') {
      state.skip = true;
      index += 1;
      continue;
    }
    if (next !== undefined && !/[A-Za-z]/.test(next)) {
      index += 1;
      if (next === '~') emit('\u00A0');
      else if (next === '_') emit('-');
      else if (next === '\\' || next === '{' || next === '}') emit(next);
      continue;
    }

    const match = /^([A-Za-z]+)(-?\d+)? ?/.exec(source.slice(index + 1, index + 64));
    if (!match) {
      continue;
    }
    index += match[0].length;
    const [, word, parameterText] = match;
    const parameter = parameterText === undefined ? undefined : Number(parameterText);
    skipFallback = 0;

    if (SKIPPED_DESTINATIONS.has(word)) {
      state.skip = true;
    } else if (word === 'ansicpg' && parameter !== undefined && iconv.encodingExists(`windows-${parameter}`)) {
      codePage = `windows-${parameter}`;
    } else if (word === 'ansicpg' && parameter !== undefined && iconv.encodingExists(`cp${parameter}`)) {
      codePage = `cp${parameter}`;
    } else if (word === 'htmlrtf') {
      htmlRtfOnly = parameter !== 0;
    } else if (word === 'uc' && parameter !== undefined) {
      state.unicodeSkip = parameter;
    } else if (word === 'u' && parameter !== undefined) {
      emit(String.fromCharCode(parameter < 0 ? parameter + 0x10000 : parameter));
      skipFallback = state.unicodeSkip;
    } else if (SYMBOLS[word] !== undefined) {
      emit(SYMBOLS[word]);
    }
  }
  flushBytes();
  return output.join('');
}
