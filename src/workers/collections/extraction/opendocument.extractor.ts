import { InvalidInputError } from 'src/common/app-error';
import { ExtractionDeadline } from 'src/workers/collections/extraction/extraction-deadline';
import { textTooLargeError } from 'src/workers/collections/extraction/extraction-errors';
import { ExtractedPart, ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import { damagedPackageError, PackageFormat, ZipPackage } from 'src/workers/collections/extraction/office-package';
import {
  formatSpreadsheetRows,
  renderSpreadsheetRow,
  SpreadsheetCells,
  SpreadsheetRow,
} from 'src/workers/collections/extraction/spreadsheet-rows';
import { localName, scanXml, XmlAttributes, XmlHandler } from 'src/workers/collections/extraction/xml-scanner';

export type OpenDocumentKind = 'text' | 'spreadsheet' | 'presentation';

export interface OpenDocumentContext {
  fileName: string;
  deadline: ExtractionDeadline;
  maxTextChars: number;
}

const FORMATS: Record<OpenDocumentKind, PackageFormat> = {
  text: { label: 'ODT', codePrefix: 'odt', application: 'the word processor' },
  spreadsheet: { label: 'ODS', codePrefix: 'ods', application: 'the spreadsheet application' },
  presentation: { label: 'ODP', codePrefix: 'odp', application: 'the presentation program' },
};

// Repeated rows and cells of a spreadsheet are written out at most this many times. Sheets
// often repeat an empty or formatted row up to the last row of the grid (1,048,576), and a
// filled row repeated that often would only multiply the same text.
const MAX_REPEATS = 100;

// Generated indexes repeat headings and captions that the text already contains. A
// bibliography is kept, because its entries appear nowhere else.
const GENERATED_INDEXES = new Set([
  'table-of-content',
  'illustration-index',
  'table-index',
  'object-index',
  'user-index',
  'alphabetical-index',
]);

// Content that is not displayed text: deleted text of tracked changes, slide thumbnails on
// notes pages, and form controls.
const SKIPPED_ELEMENTS = new Set(['tracked-changes', 'page-thumbnail', 'forms']);

// Presentation placeholders that repeat on every page.
const GENERATED_PRESENTATION_CLASSES = new Set(['page-number', 'date-time', 'footer', 'header']);

/**
 * Extracts an OpenDocument text (ODT), spreadsheet (ODS) or presentation (ODP) from its
 * `content.xml`. ODT: one part per heading with its `heading_path`, plus header and footer
 * parts from the page styles. ODS: one part per sheet (`{ sheet: name }`) with rows as
 * `cell | cell` lines of the displayed (cached) values. ODP: one part per slide
 * (`{ slide: n }`) and one for its notes (`{ slide: n, notes: true }`); hidden sheets and
 * slides carry `hidden: true`. Footnotes, endnotes and comments follow the paragraph that
 * cites them (in a spreadsheet, the cell text), and image titles and descriptions are kept.
 * Fails with `<odt|ods|odp>_encrypted`, `_damaged`, `_too_large` or `text_too_large`.
 */
export async function extractOpenDocument(
  data: Buffer,
  kind: OpenDocumentKind,
  context: OpenDocumentContext,
): Promise<ExtractorResult> {
  const { fileName, deadline } = context;
  const format = FORMATS[kind];
  const zip = await ZipPackage.open(data, fileName, format);
  await rejectEncryptedPackage(zip, fileName, format);

  const reader = new OpenDocumentReader(kind, context, 'content');
  const found = await zip.scanPart('content.xml', (xml) => scanXml(xml, reader, deadline));
  if (!found) {
    throw damagedPackageError(fileName, format, 'the content part "content.xml" is missing');
  }
  const body = reader.finish();

  let headers: ExtractedPart[] = [];
  let footers: ExtractedPart[] = [];
  if (kind === 'text') {
    const styles = new OpenDocumentReader(kind, context, 'page-styles');
    await zip.scanPart('styles.xml', (xml) => scanXml(xml, styles, deadline));
    ({ headers, footers } = styles.finishPageStyles());
  }

  const parts = [...headers, ...body.parts, ...footers];
  const totalChars = parts.reduce((sum, part) => sum + part.text.length, 0);
  if (totalChars > context.maxTextChars) {
    throw textTooLargeError(fileName, context.maxTextChars);
  }

  const meta = await readMeta(zip, deadline);
  return {
    parts,
    title: meta.title ?? body.firstHeading,
    metadata: {
      ...(kind === 'spreadsheet' ? { sheet_count: body.unitCount } : {}),
      ...(kind === 'presentation' ? { slide_count: body.unitCount } : {}),
      ...(body.hidden.length > 0 ? { [kind === 'spreadsheet' ? 'hidden_sheets' : 'hidden_slides']: body.hidden } : {}),
      ...(meta.author ? { author: meta.author } : {}),
      ...(meta.language ? { language: meta.language } : {}),
    },
  };
}

/** Fails with `<prefix>_encrypted` when its manifest lists `manifest:encryption-data`. */
async function rejectEncryptedPackage(zip: ZipPackage, fileName: string, format: PackageFormat): Promise<void> {
  let encrypted = false;
  await zip.scanPart('META-INF/manifest.xml', (xml) =>
    scanXml(xml, {
      openElement: (name) => {
        if (localName(name) === 'encryption-data') encrypted = true;
      },
    }),
  );
  if (encrypted) {
    throw new InvalidInputError(
      `${format.codePrefix}_encrypted`,
      `${format.label} file "${fileName}" is password-protected. Remove the password in ${format.application} and upload it again.`,
      { file_name: fileName },
    );
  }
}

/** Title, author and language from `meta.xml`. */
async function readMeta(
  zip: ZipPackage,
  deadline: ExtractionDeadline,
): Promise<{ title?: string; author?: string; language?: string }> {
  const fields: Record<string, string> = {};
  let current: string | undefined;
  await zip.scanPart('meta.xml', (xml) =>
    scanXml(
      xml,
      {
        openElement: (name) => {
          current = name;
        },
        closeElement: () => {
          current = undefined;
        },
        text: (text) => {
          if (current) fields[current] = (fields[current] ?? '') + text;
        },
      },
      deadline,
    ),
  );
  const title = fields['dc:title']?.trim();
  const author = (fields['dc:creator'] ?? fields['meta:initial-creator'])?.trim();
  const language = fields['dc:language']?.trim();
  return { ...(title ? { title } : {}), ...(author ? { author } : {}), ...(language ? { language } : {}) };
}

interface OpenParagraph {
  text: string;
  /** Outline level of a heading (`text:h`), undefined for a plain paragraph. */
  headingLevel?: number;
}

interface NoteState {
  citation: string;
  paragraphs: string[];
}

interface AnnotationState {
  author: string;
  paragraphs: string[];
}

interface TableState {
  /** Sheet of a spreadsheet, or a table inside text or on a slide. */
  isSheet: boolean;
  name: string;
  hidden: boolean;
  rows: string[];
  sheetRows: SpreadsheetRow[];
  /** Cells of the open row, each with its paragraphs and how often it repeats. */
  cells: { paragraphs: string[]; repeat: number }[] | undefined;
  rowRepeat: number;
  cellParagraphs: string[] | undefined;
  cellRepeat: number;
}

interface BodyResult {
  parts: ExtractedPart[];
  firstHeading?: string;
  /** Number of sheets or slides. */
  unitCount: number;
  /** Names of hidden sheets, or numbers of hidden slides. */
  hidden: (string | number)[];
}

/**
 * Streams the body of `content.xml`, or the page styles of `styles.xml`, into parts. Every
 * finished paragraph goes to the innermost open collector: a comment, a note, a table cell,
 * else the current part. Notes and comments wait until the paragraph that cites them ends.
 */
class OpenDocumentReader implements XmlHandler {
  private readonly parts: ExtractedPart[] = [];
  private blocks: string[] = [];
  private metadata: Record<string, unknown> = {};
  private readonly paragraphs: OpenParagraph[] = [];
  private readonly notes: NoteState[] = [];
  private readonly annotations: AnnotationState[] = [];
  private readonly tables: TableState[] = [];
  private pendingAttachments: string[] = [];
  private readonly headingPath: { level: number; text: string }[] = [];
  private firstHeading: string | undefined;
  private skipDepth = 0;
  /** True inside `text:note-citation`, which is skipped as text but labels its note. */
  private inCitation = false;
  private inAnnotationAuthor = false;
  private totalChars = 0;
  private inBody = false;

  // Automatic styles that hide a sheet (table:display="false") or a slide (presentation:visibility="hidden").
  private readonly hiddenStyles = new Set<string>();
  private styleName: string | undefined;

  private unitCount = 0;
  private readonly hidden: (string | number)[] = [];
  private inNotes = false;

  // Page style parts: text inside style:header* and style:footer* elements.
  private pageStoryDepth = 0;
  private pageStoryKind: 'header' | 'footer' | undefined;
  private readonly pageStories: { kind: 'header' | 'footer'; text: string }[] = [];

  constructor(
    private readonly kind: OpenDocumentKind,
    private readonly context: OpenDocumentContext,
    private readonly source: 'content' | 'page-styles',
  ) {}

  openElement(name: string, attributes: XmlAttributes): void {
    const local = localName(name);
    if (this.skipDepth > 0) {
      this.skipDepth += 1;
      return;
    }
    if (this.source === 'page-styles' && !this.openPageStory(name, local)) {
      return;
    }
    if (this.source === 'content' && !this.inBody) {
      this.readAutomaticStyle(local, attributes);
      if (name === 'office:body') this.inBody = true;
      return;
    }
    if (name === 'text:note-citation') {
      this.inCitation = true;
      this.skipDepth = 1;
      return;
    }
    if (SKIPPED_ELEMENTS.has(local) || (name === 'dc:date' && this.annotations.length > 0)) {
      this.skipDepth = 1;
      return;
    }
    if (name.startsWith('text:') && GENERATED_INDEXES.has(local)) {
      this.skipDepth = 1;
      return;
    }
    if (name === 'draw:frame' && GENERATED_PRESENTATION_CLASSES.has(attributes['presentation:class'] ?? '')) {
      this.skipDepth = 1;
      return;
    }

    switch (name) {
      case 'text:p':
      case 'text:h':
        this.paragraphs.push({
          text: '',
          headingLevel: name === 'text:h' ? Number(attributes['text:outline-level'] ?? 1) || 1 : undefined,
        });
        break;
      case 'text:s':
        this.appendText(' '.repeat(Math.min(Number(attributes['text:c'] ?? 1) || 1, 1000)));
        break;
      case 'text:tab':
        this.appendText('\t');
        break;
      case 'text:line-break':
        this.appendText('\n');
        break;
      case 'text:note':
        this.notes.push({ citation: '', paragraphs: [] });
        break;
      case 'office:annotation':
        this.annotations.push({ author: '', paragraphs: [] });
        break;
      case 'dc:creator':
        this.inAnnotationAuthor = this.annotations.length > 0;
        break;
      case 'svg:title':
      case 'svg:desc':
        this.paragraphs.push({ text: '' });
        break;
      case 'table:table':
        this.openTable(attributes);
        break;
      case 'table:table-row':
        this.openRow(attributes);
        break;
      case 'table:table-cell':
      case 'table:covered-table-cell':
        this.openCell(attributes);
        break;
      case 'draw:page':
        this.startSlide(attributes);
        break;
      case 'presentation:notes':
        this.startPart({ slide: this.unitCount, notes: true });
        this.inNotes = true;
        break;
    }
  }

  closeElement(name: string): void {
    if (this.skipDepth > 0) {
      this.skipDepth -= 1;
      if (this.skipDepth === 0) this.inCitation = false;
      return;
    }
    if (this.source === 'page-styles') {
      this.closePageStory();
      if (this.pageStoryDepth === 0) return;
    }
    if (this.source === 'content' && !this.inBody) {
      if (localName(name) === 'style') this.styleName = undefined;
      return;
    }

    switch (name) {
      case 'text:p':
      case 'text:h':
      case 'svg:title':
      case 'svg:desc': {
        const paragraph = this.paragraphs.pop();
        if (paragraph) this.finishParagraph(paragraph);
        break;
      }
      case 'text:note': {
        const note = this.notes.pop();
        if (note) this.attach(`[${note.citation.trim()}] ${note.paragraphs.join(' ')}`);
        break;
      }
      case 'office:annotation': {
        const annotation = this.annotations.pop();
        if (annotation) {
          const author = annotation.author.trim();
          this.attach(`Comment${author ? ` (${author})` : ''}: ${annotation.paragraphs.join(' ')}`);
        }
        break;
      }
      case 'dc:creator':
        this.inAnnotationAuthor = false;
        break;
      case 'table:table-cell':
      case 'table:covered-table-cell':
        this.closeCell();
        break;
      case 'table:table-row':
        this.closeRow();
        break;
      case 'table:table':
        this.closeTable();
        break;
      case 'presentation:notes':
        this.inNotes = false;
        break;
      case 'office:body':
        this.inBody = false;
        break;
    }
  }

  text(text: string): void {
    if (this.skipDepth > 0) {
      if (this.inCitation && this.notes.length > 0) {
        this.notes[this.notes.length - 1].citation += text;
      }
      return;
    }
    if (this.inAnnotationAuthor) {
      this.annotations[this.annotations.length - 1].author += text;
      return;
    }
    this.appendText(text);
  }

  finish(): BodyResult {
    this.flushPart();
    return { parts: this.parts, firstHeading: this.firstHeading, unitCount: this.unitCount, hidden: this.hidden };
  }

  /** Header and footer parts of the page styles, each distinct text once. */
  finishPageStyles(): { headers: ExtractedPart[]; footers: ExtractedPart[] } {
    const seen = new Set<string>();
    const headers: ExtractedPart[] = [];
    const footers: ExtractedPart[] = [];
    for (const story of this.pageStories) {
      const key = story.text.replace(/\s+/g, ' ').trim();
      if (key === '' || seen.has(key)) continue;
      seen.add(key);
      (story.kind === 'header' ? headers : footers).push({ text: story.text, metadata: { [story.kind]: true } });
    }
    return { headers, footers };
  }

  private appendText(text: string): void {
    const paragraph = this.paragraphs[this.paragraphs.length - 1];
    if (paragraph) paragraph.text += text;
  }

  private finishParagraph(paragraph: OpenParagraph): void {
    const text = paragraph.text;
    const annotation = this.annotations[this.annotations.length - 1];
    const note = this.notes[this.notes.length - 1];
    const table = this.tables[this.tables.length - 1];

    if (annotation) {
      annotation.paragraphs.push(text.trim());
    } else if (note) {
      note.paragraphs.push(text.trim());
    } else if (table?.cellParagraphs) {
      table.cellParagraphs.push(text.trim());
    } else if (paragraph.headingLevel !== undefined && this.kind === 'text' && this.paragraphs.length === 0) {
      this.startSection(paragraph.headingLevel, text);
    } else {
      this.blocks.push(text);
    }

    if (this.paragraphs.length === 0 && !annotation && !note) {
      this.flushAttachments();
    }
  }

  /** Queues note or comment text until the paragraph that contains it ends. */
  private attach(text: string): void {
    this.pendingAttachments.push(text);
    if (this.paragraphs.length === 0 && this.notes.length === 0 && this.annotations.length === 0) {
      this.flushAttachments();
    }
  }

  private flushAttachments(): void {
    const table = this.tables[this.tables.length - 1];
    for (const text of this.pendingAttachments) {
      if (table?.cellParagraphs) {
        table.cellParagraphs.push(text);
      } else {
        this.blocks.push(text);
      }
    }
    this.pendingAttachments = [];
  }

  private startSection(level: number, headingText: string): void {
    const label = headingText.replace(/\s+/g, ' ').trim().slice(0, 200);
    if (label === '') {
      this.blocks.push(headingText);
      return;
    }
    while (this.headingPath.length > 0 && this.headingPath[this.headingPath.length - 1].level >= level) {
      this.headingPath.pop();
    }
    this.headingPath.push({ level, text: label });
    this.firstHeading ??= label;
    this.startPart({ heading_path: this.headingPath.map((entry) => entry.text) });
    this.blocks.push(headingText);
  }

  private startSlide(attributes: XmlAttributes): void {
    this.unitCount += 1;
    const hidden = this.hiddenStyles.has(attributes['draw:style-name'] ?? '');
    if (hidden) this.hidden.push(this.unitCount);
    this.startPart({ slide: this.unitCount, ...(hidden ? { hidden: true } : {}) });
  }

  private startPart(metadata: Record<string, unknown>): void {
    this.flushPart();
    this.metadata = metadata;
  }

  private flushPart(): void {
    const text = this.blocks.filter((block) => block.trim() !== '').join('\n\n');
    if (text !== '') {
      this.parts.push({ text, metadata: this.metadata });
      this.totalChars += text.length;
      if (this.totalChars > this.context.maxTextChars) {
        throw textTooLargeError(this.context.fileName, this.context.maxTextChars);
      }
    }
    this.blocks = [];
  }

  private openTable(attributes: XmlAttributes): void {
    const isSheet = this.kind === 'spreadsheet' && this.tables.length === 0;
    const name = attributes['table:name'] ?? '';
    const hidden = this.hiddenStyles.has(attributes['table:style-name'] ?? '');
    this.tables.push({
      isSheet,
      name,
      hidden,
      rows: [],
      sheetRows: [],
      cells: undefined,
      rowRepeat: 1,
      cellParagraphs: undefined,
      cellRepeat: 1,
    });
    if (isSheet) {
      this.unitCount += 1;
      if (hidden) this.hidden.push(name);
      this.startPart({ sheet: name, ...(hidden ? { hidden: true } : {}) });
    }
  }

  private openRow(attributes: XmlAttributes): void {
    const table = this.tables[this.tables.length - 1];
    if (!table) return;
    table.cells = [];
    table.rowRepeat = Number(attributes['table:number-rows-repeated'] ?? 1) || 1;
  }

  private openCell(attributes: XmlAttributes): void {
    const table = this.tables[this.tables.length - 1];
    if (!table) return;
    table.cellParagraphs = [];
    table.cellRepeat = Number(attributes['table:number-columns-repeated'] ?? 1) || 1;
  }

  private closeCell(): void {
    const table = this.tables[this.tables.length - 1];
    if (!table?.cellParagraphs || !table.cells) return;
    table.cells.push({ paragraphs: table.cellParagraphs.filter((text) => text !== ''), repeat: table.cellRepeat });
    table.cellParagraphs = undefined;
  }

  private closeRow(): void {
    const table = this.tables[this.tables.length - 1];
    if (!table?.cells) return;
    const cells = table.cells;
    table.cells = undefined;
    const filled = cells.some((cell) => cell.paragraphs.length > 0);
    if (!filled) return;

    if (table.isSheet) {
      const cellsWithText: SpreadsheetCells = [];
      let column = 0;
      for (const cell of cells) {
        const text = cell.paragraphs.join(' ');
        const repeat = text === '' ? cell.repeat : Math.min(cell.repeat, MAX_REPEATS);
        if (text !== '') {
          for (let index = 0; index < repeat; index += 1) cellsWithText.push({ column: column + index, text });
        }
        column += cell.repeat;
      }
      const row = renderSpreadsheetRow(cellsWithText);
      for (let index = 0; row && index < Math.min(table.rowRepeat, MAX_REPEATS); index += 1) table.sheetRows.push(row);
      return;
    }

    const texts = cells.map((cell) => cell.paragraphs.join(' ')).filter((text) => text !== '');
    table.rows.push(texts.join(' | '));
  }

  private closeTable(): void {
    const table = this.tables.pop();
    if (!table) return;
    if (table.isSheet) {
      this.blocks.push(formatSpreadsheetRows(table.name, table.sheetRows));
      this.startPart({});
      return;
    }
    const text = table.rows.join('\n');
    const outer = this.tables[this.tables.length - 1];
    if (outer?.cellParagraphs) {
      outer.cellParagraphs.push(text);
    } else {
      this.blocks.push(text);
    }
  }

  private readAutomaticStyle(local: string, attributes: XmlAttributes): void {
    if (local === 'style') {
      this.styleName = attributes['style:name'];
    } else if (this.styleName && local === 'table-properties' && attributes['table:display'] === 'false') {
      this.hiddenStyles.add(this.styleName);
    } else if (this.styleName && local === 'drawing-page-properties' && attributes['presentation:visibility'] === 'hidden') {
      this.hiddenStyles.add(this.styleName);
    }
  }

  /** In `styles.xml`, enters header and footer elements and skips everything else. */
  private openPageStory(name: string, local: string): boolean {
    if (this.pageStoryDepth > 0) {
      this.pageStoryDepth += 1;
      return true;
    }
    const match = /^(header|footer)(-left|-first)?$/.exec(local);
    if (name.startsWith('style:') && match) {
      this.pageStoryDepth = 1;
      this.pageStoryKind = match[1] as 'header' | 'footer';
    }
    return false;
  }

  private closePageStory(): void {
    if (this.pageStoryDepth === 0) return;
    this.pageStoryDepth -= 1;
    if (this.pageStoryDepth === 0 && this.pageStoryKind) {
      const text = this.blocks.filter((block) => block.trim() !== '').join('\n\n');
      this.pageStories.push({ kind: this.pageStoryKind, text });
      this.blocks = [];
      this.pageStoryKind = undefined;
    }
  }
}
