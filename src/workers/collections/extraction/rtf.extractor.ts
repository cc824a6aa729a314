import * as iconv from 'iconv-lite';

import { InvalidInputError } from 'src/common/app-error';
import { ExtractionDeadline } from 'src/workers/collections/extraction/extraction-deadline';
import { textTooLargeError } from 'src/workers/collections/extraction/extraction-errors';
import { ExtractedPart, ExtractorResult } from 'src/workers/collections/extraction/extraction.types';

export interface RtfContext {
  fileName: string;
  deadline: ExtractionDeadline;
  maxTextChars: number;
}

/** Destination of the text of a group. */
type Destination =
  // `container` groups contain no text themselves, except in a nested group that names a text
  // destination: `\shptxt` inside shape instructions, `\ud` inside `\upr`.
  | { kind: 'body' | 'skip' | 'font-table' | 'container' }
  | { kind: 'story'; story: Story }
  | { kind: 'info'; field: string };

/** Text of a header, footer, footnote or comment group, as written in chunks. */
interface Story {
  kind: 'header' | 'footer' | 'footnote' | 'comment';
  chunks: string[];
}

interface GroupState {
  destination: Destination;
  /** Font number selected with `\f`, which picks the code page of `\'hh` bytes. */
  font: number | undefined;
  /** Fallback characters that follow each `\uN` (`\ucN`, default 1). */
  unicodeSkip: number;
}

// Code pages of the RTF `\fcharsetN` values (RTF specification, font table).
const CHARSET_CODE_PAGES: Record<number, string> = {
  0: 'windows-1252',
  77: 'macintosh',
  128: 'shift_jis',
  129: 'cp949',
  130: 'cp1361',
  134: 'gbk',
  136: 'big5',
  161: 'windows-1253',
  162: 'windows-1254',
  163: 'windows-1258',
  177: 'windows-1255',
  178: 'windows-1256',
  186: 'windows-1257',
  204: 'windows-1251',
  222: 'windows-874',
  238: 'windows-1250',
  255: 'cp437',
};

// Groups that contain no document text. Ignorable groups (`{\*\name ...}`) are skipped too,
// unless their destination is one the parser reads.
const SKIPPED_DESTINATIONS = new Set([
  'colortbl',
  'stylesheet',
  'listtable',
  'listoverridetable',
  'revtbl',
  'rsidtbl',
  'pict',
  'objdata',
  'objclass',
  'xmlnstbl',
  'themedata',
  'colorschememapping',
  'datastore',
  'latentstyles',
  'generator',
  'pgdsctbl',
  'filetbl',
  'fldinst',
  'datafield',
  'shprslt',
  'nonshppict',
  'bkmkstart',
  'bkmkend',
  'ftnsep',
  'ftnsepc',
  'aftnsep',
  'aftnsepc',
  'atnid',
  'atnauthor',
  'atndate',
  'atnref',
  'template',
]);

const STORY_DESTINATIONS: Record<string, Story['kind']> = {
  header: 'header',
  headerl: 'header',
  headerr: 'header',
  headerf: 'header',
  footer: 'footer',
  footerl: 'footer',
  footerr: 'footer',
  footerf: 'footer',
  footnote: 'footnote',
  annotation: 'comment',
};

const INFO_FIELDS = new Set(['title', 'author', 'subject']);

// Control words that stand for one character.
const SYMBOLS: Record<string, string> = {
  tab: '\t',
  line: '\n',
  emdash: '\u2014',
  endash: '\u2013',
  emspace: ' ',
  enspace: ' ',
  qmspace: ' ',
  bullet: '\u2022',
  lquote: '\u2018',
  rquote: '\u2019',
  ldblquote: '\u201c',
  rdblquote: '\u201d',
};

const CELL_SEPARATOR = ' | ';

// Deeper nesting is not produced by word processors, and each open group costs memory.
const MAX_GROUP_DEPTH = 5_000;
const TOKENS_PER_DEADLINE_CHECK = 100_000;

/**
 * Extracts the text of an RTF document with a streaming RTF parser. `\'hh` bytes are decoded
 * with the code page of the current font (`\fcharset`) or of the document (`\ansicpg`), so
 * Shift-JIS and other double-byte text comes out right. `\uN` characters skip their `\ucN`
 * fallback bytes. Field results, list labels, table rows (`cell | cell`) and text boxes are
 * kept. Header parts come first (`{ header: true }`) and footer parts last
 * (`{ footer: true }`), while footnotes and comments follow the paragraph that cites them.
 * Fails with `rtf_damaged` or `text_too_large`.
 */
export function extractRtf(data: Buffer, context: RtfContext): ExtractorResult {
  const source = data.toString('latin1');
  if (!/^\s*\{\\rtf/.test(source.slice(0, 64))) {
    throw new InvalidInputError(
      'rtf_damaged',
      `File "${context.fileName}" does not start with "{\\rtf", so it is not an RTF document. Check the file type, or save it again as RTF.`,
      { file_name: context.fileName },
    );
  }

  const parser = new RtfParser(source, context);
  parser.run();
  return parser.result();
}

class RtfParser {
  private position = 0;
  private readonly stack: GroupState[] = [];
  private state: GroupState = { destination: { kind: 'body' }, font: undefined, unicodeSkip: 1 };
  /** Set right after `{` and `\*`, when the group's first control word names its destination. */
  private groupStart = false;
  private ignorable = false;
  private pendingBytes: number[] = [];
  private pendingFallback = 0;

  private readonly body: string[] = [];
  private bodyLength = 0;
  private readonly stories: Story[] = [];
  /** Footnotes and comments waiting for the end of the paragraph that cites them. */
  private pendingNotes: string[] = [];
  private footnoteCount = 0;
  private readonly info: Record<string, string> = {};

  private defaultCodePage = 'windows-1252';
  private defaultFont: number | undefined;
  private readonly fontCodePages = new Map<number, string>();
  private fontTableEntry: number | undefined;
  private tokenCount = 0;

  constructor(
    private readonly source: string,
    private readonly context: RtfContext,
  ) {}

  run(): void {
    const { source } = this;
    while (this.position < source.length) {
      this.tokenCount += 1;
      if (this.tokenCount % TOKENS_PER_DEADLINE_CHECK === 0) {
        this.context.deadline.throwIfExpired();
        if (this.bodyLength > this.context.maxTextChars) {
          throw textTooLargeError(this.context.fileName, this.context.maxTextChars);
        }
      }

      const character = source[this.position];
      if (character === '{') {
        this.position += 1;
        this.openGroup();
      } else if (character === '}') {
        this.position += 1;
        this.closeGroup();
      } else if (character === '\\') {
        this.readControl();
      } else if (character === '\r' || character === '\n') {
        this.position += 1;
      } else {
        this.readText();
      }
    }
    this.flushBytes();
  }

  result(): ExtractorResult {
    this.flushNotes();
    const parts: ExtractedPart[] = [];
    const seen = new Set<string>();
    const storyParts = (kind: 'header' | 'footer'): ExtractedPart[] =>
      this.stories
        .filter((story) => story.kind === kind)
        .flatMap((story) => {
          const text = story.chunks.join('');
          const key = text.replace(/\s+/g, ' ').trim();
          if (key === '' || seen.has(key)) return [];
          seen.add(key);
          return [{ text, metadata: { [kind]: true } }];
        });

    parts.push(...storyParts('header'));
    parts.push({ text: this.body.join(''), metadata: {} });
    parts.push(...storyParts('footer'));

    const title = this.info.title?.trim();
    const author = this.info.author?.trim();
    return {
      parts,
      ...(title ? { title } : {}),
      metadata: { encoding: this.defaultCodePage, ...(author ? { author } : {}) },
    };
  }

  private openGroup(): void {
    this.flushBytes();
    if (this.stack.length >= MAX_GROUP_DEPTH) {
      throw new InvalidInputError(
        'rtf_damaged',
        `RTF file "${this.context.fileName}" nests groups more than ${MAX_GROUP_DEPTH} levels deep, so it is damaged. Save it again from the word processor.`,
        { file_name: this.context.fileName },
      );
    }
    this.stack.push(this.state);
    this.state = { ...this.state };
    this.groupStart = true;
    this.ignorable = false;
    this.pendingFallback = 0;
  }

  private closeGroup(): void {
    this.flushBytes();
    const closed = this.state;
    this.state = this.stack.pop() ?? closed;
    this.groupStart = false;
    this.pendingFallback = 0;

    const destination = closed.destination;
    const parent = this.state.destination;
    if (destination.kind === 'story' && (parent.kind !== 'story' || parent.story !== destination.story)) {
      this.finishStory(destination.story);
    }
  }

  private finishStory(story: Story): void {
    if (story.kind === 'header' || story.kind === 'footer') {
      this.stories.push(story);
      return;
    }
    const text = story.chunks.join('').replace(/\s+/g, ' ').trim();
    if (text === '') return;
    if (story.kind === 'footnote') {
      this.footnoteCount += 1;
      this.pendingNotes.push(`[${this.footnoteCount}] ${text}`);
    } else {
      this.pendingNotes.push(`Comment: ${text}`);
    }
  }

  /** Reads a run of literal characters as bytes of the current code page. */
  private readText(): void {
    const { source } = this;
    let end = this.position;
    while (end < source.length) {
      const character = source[end];
      if (character === '\\' || character === '{' || character === '}' || character === '\r' || character === '\n') break;
      end += 1;
    }
    if (this.acceptsText()) {
      for (let index = this.position; index < end; index += 1) {
        this.addByte(source.charCodeAt(index));
      }
    }
    this.position = end;
    this.groupStart = false;
  }

  private readControl(): void {
    const { source } = this;
    const next = source[this.position + 1];
    if (next === undefined) {
      this.position += 1;
      return;
    }

    if (!/[A-Za-z]/.test(next)) {
      this.position += 2;
      this.readControlSymbol(next);
      return;
    }

    const match = /^([A-Za-z]{1,32})(-?\d{1,10})? ?/.exec(source.slice(this.position + 1, this.position + 48));
    const word = match?.[1] ?? next;
    const parameter = match?.[2] === undefined ? undefined : Number(match[2]);
    this.position += 1 + (match?.[0].length ?? 1);
    this.readControlWord(word, parameter);
  }

  private readControlSymbol(symbol: string): void {
    switch (symbol) {
      case '*':
        this.ignorable = true;
        return;
      case "'": {
        const hex = this.source.slice(this.position, this.position + 2);
        this.position += 2;
        const value = parseInt(hex, 16);
        if (!Number.isNaN(value) && this.acceptsText()) this.addByte(value);
        return;
      }
      case '\\':
      case '{':
      case '}':
        if (this.acceptsText()) this.addByte(symbol.charCodeAt(0));
        return;
      case '~':
        this.appendText('\u00a0');
        return;
      case '_':
        this.appendText('\u2011');
        return;
      case '\r':
      case '\n':
        this.endParagraph();
        return;
      // `\-` (optional hyphen) and `\:` (index subentry) add nothing to the text.
    }
  }

  private readControlWord(word: string, parameter: number | undefined): void {
    const atGroupStart = this.groupStart;
    const ignorable = this.ignorable;
    this.groupStart = false;
    this.ignorable = false;

    if (word === 'bin') {
      // Binary data of the given length follows; it is never text.
      this.flushBytes();
      this.position += Math.max(0, parameter ?? 0);
      return;
    }
    if (atGroupStart && this.openDestination(word, ignorable)) {
      return;
    }

    switch (word) {
      case 'par':
      case 'sect':
      case 'page':
        this.endParagraph();
        return;
      case 'cell':
      case 'nestcell':
        this.appendText(CELL_SEPARATOR);
        return;
      case 'row':
      case 'nestrow':
        this.endRow();
        return;
      case 'u':
        this.appendUnicode(parameter ?? 0);
        return;
      case 'uc':
        this.state.unicodeSkip = Math.max(0, parameter ?? 1);
        return;
      case 'f':
        this.selectFont(parameter);
        return;
      case 'plain':
        this.selectFont(this.defaultFont);
        return;
      case 'deff':
        this.defaultFont = parameter;
        return;
      case 'ansicpg':
        this.flushBytes();
        this.defaultCodePage = codePageName(parameter) ?? this.defaultCodePage;
        return;
      case 'mac':
        this.defaultCodePage = 'macintosh';
        return;
      case 'pc':
        this.defaultCodePage = 'cp437';
        return;
      case 'pca':
        this.defaultCodePage = 'cp850';
        return;
      case 'fcharset':
        if (this.state.destination.kind === 'font-table' && this.fontTableEntry !== undefined) {
          const codePage = CHARSET_CODE_PAGES[parameter ?? 0];
          if (codePage) this.fontCodePages.set(this.fontTableEntry, codePage);
        }
        return;
      case 'cpg':
        if (this.state.destination.kind === 'font-table' && this.fontTableEntry !== undefined) {
          const codePage = codePageName(parameter);
          if (codePage) this.fontCodePages.set(this.fontTableEntry, codePage);
        }
        return;
      case 'chftn':
        return;
    }

    const symbol = SYMBOLS[word];
    if (symbol !== undefined) {
      this.appendText(symbol);
    } else if (this.pendingFallback > 0) {
      // A control word inside the fallback of `\uN` counts as one fallback character.
      this.pendingFallback -= 1;
    }
  }

  /** Sets the group's destination when its first control word names one, and returns whether it did. */
  private openDestination(word: string, ignorable: boolean): boolean {
    const storyKind = STORY_DESTINATIONS[word];
    if (storyKind) {
      this.flushBytes();
      const story: Story = { kind: storyKind, chunks: [] };
      this.state.destination = this.state.destination.kind === 'skip' ? { kind: 'skip' } : { kind: 'story', story };
      return true;
    }
    if (word === 'fonttbl') {
      this.state.destination = { kind: 'font-table' };
      return true;
    }
    if (word === 'shpinst' || word === 'upr') {
      this.state.destination = { kind: 'container' };
      return true;
    }
    if ((word === 'shptxt' || word === 'ud') && this.state.destination.kind === 'container') {
      this.state.destination = this.outerTextDestination();
      return true;
    }
    if (word === 'info') {
      // Only the first value of each field in INFO_FIELDS is kept; the empty field name drops the rest.
      this.state.destination = { kind: 'info', field: '' };
      return true;
    }
    if (this.state.destination.kind === 'info') {
      const isFirstValue = INFO_FIELDS.has(word) && this.info[word] === undefined;
      this.state.destination = { kind: 'info', field: isFirstValue ? word : '' };
      return true;
    }
    if (ignorable || SKIPPED_DESTINATIONS.has(word)) {
      this.state.destination = { kind: 'skip' };
      return true;
    }
    return false;
  }

  private outerTextDestination(): Destination {
    for (let index = this.stack.length - 1; index >= 0; index -= 1) {
      const destination = this.stack[index].destination;
      if (destination.kind === 'body' || destination.kind === 'story' || destination.kind === 'info') return destination;
    }
    return { kind: 'body' };
  }

  private selectFont(font: number | undefined): void {
    if (this.state.destination.kind === 'font-table') {
      this.fontTableEntry = font;
      return;
    }
    this.flushBytes();
    this.state.font = font;
  }

  private acceptsText(): boolean {
    const kind = this.state.destination.kind;
    return kind === 'body' || kind === 'story' || kind === 'info';
  }

  private addByte(byte: number): void {
    if (this.pendingFallback > 0) {
      this.pendingFallback -= 1;
      return;
    }
    this.pendingBytes.push(byte);
  }

  private appendUnicode(parameter: number): void {
    this.flushBytes();
    // RTF writes code units above 32767 as negative numbers.
    const codeUnit = parameter < 0 ? parameter + 65536 : parameter;
    if (this.acceptsText() && codeUnit > 0 && codeUnit <= 0xffff) {
      this.write(String.fromCharCode(codeUnit));
    }
    this.pendingFallback = this.state.unicodeSkip;
  }

  private appendText(text: string): void {
    this.flushBytes();
    this.pendingFallback = 0;
    if (this.acceptsText()) this.write(text);
  }

  private flushBytes(): void {
    if (this.pendingBytes.length === 0) return;
    const bytes = Buffer.from(this.pendingBytes);
    this.pendingBytes = [];
    const codePage = (this.state.font !== undefined && this.fontCodePages.get(this.state.font)) || this.defaultCodePage;
    this.write(iconv.decode(bytes, codePage));
  }

  private write(text: string): void {
    const destination = this.state.destination;
    if (destination.kind === 'body') {
      this.body.push(text);
      this.bodyLength += text.length;
    } else if (destination.kind === 'story') {
      destination.story.chunks.push(text);
    } else if (destination.kind === 'info' && destination.field !== '') {
      this.info[destination.field] = (this.info[destination.field] ?? '') + text;
    }
  }

  private endParagraph(): void {
    this.appendText('\n\n');
    if (this.state.destination.kind === 'body') this.flushNotes();
  }

  /** Ends a table row: drops the separator after the last cell and starts a new line. */
  private endRow(): void {
    this.flushBytes();
    const destination = this.state.destination;
    let chunks: string[];
    if (destination.kind === 'body') {
      chunks = this.body;
    } else if (destination.kind === 'story') {
      chunks = destination.story.chunks;
    } else {
      return;
    }
    if (chunks[chunks.length - 1] === CELL_SEPARATOR) chunks.pop();
    chunks.push('\n');
  }

  private flushNotes(): void {
    for (const note of this.pendingNotes) {
      this.body.push(`${note}\n\n`);
    }
    this.pendingNotes = [];
  }
}

/** Returns the iconv-lite name of a Windows code page number, or undefined when iconv-lite lacks it. */
function codePageName(codePage: number | undefined): string | undefined {
  if (codePage === undefined || codePage === 0) return undefined;
  const names = [`cp${codePage}`, `windows-${codePage}`];
  if (codePage === 932) return 'shift_jis';
  return names.find((name) => iconv.encodingExists(name));
}
