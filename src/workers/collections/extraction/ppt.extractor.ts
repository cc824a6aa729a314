import { InvalidInputError } from 'src/common/app-error';
import { CompoundFile, CompoundFileError, readSummaryInformation } from 'src/workers/collections/extraction/compound-file';
import { ExtractionDeadline } from 'src/workers/collections/extraction/extraction-deadline';
import { textTooLargeError } from 'src/workers/collections/extraction/extraction-errors';
import { ExtractedPart, ExtractorResult } from 'src/workers/collections/extraction/extraction.types';

export interface PptContext {
  fileName: string;
  deadline: ExtractionDeadline;
  maxTextChars: number;
}

interface RecordHeader {
  /** Offset of the record header in the stream. */
  offset: number;
  version: number;
  instance: number;
  type: number;
  /** Offset of the record data, right after the 8-byte header. */
  bodyStart: number;
  bodyEnd: number;
}

/** Stream offsets of persist objects by id, and the id of the Document container. */
interface PersistDirectory {
  offsets: Map<number, number>;
  documentRef: number;
}

interface SlideEntry {
  persistId: number;
  slideId: number;
  /** Text blocks that SlideListWithText stores for the slide's placeholders. */
  placeholderTexts: string[];
}

// Record types of the PowerPoint binary format (MS-PPT, RecordType).
const RT_DOCUMENT = 0x03e8;
const RT_SLIDE = 0x03ee;
const RT_NOTES = 0x03f0;
const RT_NOTES_ATOM = 0x03f1;
const RT_SLIDE_PERSIST_ATOM = 0x03f3;
const RT_SLIDE_SHOW_SLIDE_INFO_ATOM = 0x03f9;
const RT_OUTLINE_TEXT_REF_ATOM = 0x0f9e;
const RT_TEXT_CHARS_ATOM = 0x0fa0;
const RT_TEXT_BYTES_ATOM = 0x0fa8;
const RT_SLIDE_LIST_WITH_TEXT = 0x0ff0;
const RT_USER_EDIT_ATOM = 0x0ff5;
const RT_PERSIST_DIRECTORY_ATOM = 0x1772;
const RT_CURRENT_USER_ATOM = 0x0ff6;
const RT_PLACEHOLDER_ATOM = 0x0bc3;
// Placeholder type of header and footer shapes written by PowerPoint 2007 and later.
const RT_ROUND_TRIP_HF_PLACEHOLDER_ATOM = 0x0420;
const RT_SHAPE_CONTAINER = 0xf004;

// SlideListWithText instances (MS-PPT).
const SLIDE_LIST_SLIDES = 0;
const SLIDE_LIST_NOTES = 2;

// CurrentUserAtom.headerToken of an encrypted file (MS-PPT).
const ENCRYPTED_HEADER_TOKEN = 0xf3d1c4df;

// Placeholder types whose text PowerPoint generates or repeats from the master: date, slide
// number, footer, header, and the slide image on notes pages (MS-PPT, PlaceholderEnum).
const GENERATED_PLACEHOLDERS = new Set([0x05, 0x07, 0x08, 0x09, 0x0a, 0x0b]);

// A text atom holding only `*` stands for a field, such as the slide number, that is filled in on display.
const FIELD_PLACEHOLDER_TEXT = '*';

const MAX_EDIT_CHAIN = 10_000;

/**
 * Extracts the text of a PowerPoint 97-2003 presentation from its "PowerPoint Document"
 * stream. Slides are read in presentation order through the persist directory of the latest
 * save, one part per slide (`{ slide: n }`, `hidden: true` for hidden slides) followed by
 * its notes (`{ slide: n, notes: true }`). Text comes from the slide's text boxes, table
 * cells and placeholders; date, slide number, header and footer placeholders are left out.
 * When the edit history cannot be read, slides are taken in stream order instead.
 * Fails with `ppt_damaged`, `ppt_encrypted` or `text_too_large`.
 */
export function extractPpt(data: Buffer, context: PptContext): ExtractorResult {
  const { fileName } = context;
  const stream = readDocumentStream(data, fileName);
  const reader = new PowerPointReader(stream.document, context);
  const offsets = reader.readPersistOffsets(stream.currentEditOffset);

  const slides = offsets ? reader.slidesInPresentationOrder(offsets) : undefined;
  const parts = slides && slides.length > 0 ? slides : reader.slidesInStreamOrder();
  if (parts.length === 0) {
    throw damagedError(fileName, 'no slides were found in the "PowerPoint Document" stream');
  }

  const hiddenSlides = parts.filter((part) => part.metadata.hidden).map((part) => part.metadata.slide as number);
  const slideCount = new Set(parts.map((part) => part.metadata.slide)).size;
  return {
    parts,
    title: stream.title,
    metadata: {
      slide_count: slideCount,
      ...(hiddenSlides.length > 0 ? { hidden_slides: hiddenSlides } : {}),
      ...(stream.author ? { author: stream.author } : {}),
    },
  };
}

interface DocumentStream {
  document: Buffer;
  /** Offset of the newest UserEditAtom, from the "Current User" stream. */
  currentEditOffset?: number;
  title?: string;
  author?: string;
}

function readDocumentStream(data: Buffer, fileName: string): DocumentStream {
  let compoundFile: CompoundFile;
  let document: Buffer | undefined;
  let currentUser: Buffer | undefined;
  let encryptedSummary: Buffer | undefined;
  try {
    compoundFile = new CompoundFile(data);
    document = compoundFile.readStream('PowerPoint Document');
    currentUser = compoundFile.readStream('Current User');
    encryptedSummary = compoundFile.readStream('EncryptedSummary');
  } catch (error) {
    if (error instanceof CompoundFileError) {
      throw damagedError(fileName, error.message, error);
    }
    throw error;
  }
  if (!document) {
    throw damagedError(fileName, 'the "PowerPoint Document" stream is missing');
  }

  let currentEditOffset: number | undefined;
  if (currentUser && currentUser.length >= 20 && currentUser.readUInt16LE(2) === RT_CURRENT_USER_ATOM) {
    if (currentUser.readUInt32LE(12) === ENCRYPTED_HEADER_TOKEN) {
      throw encryptedError(fileName);
    }
    currentEditOffset = currentUser.readUInt32LE(16);
  }
  if (encryptedSummary) {
    throw encryptedError(fileName);
  }
  return { document, currentEditOffset, ...readSummaryInformation(compoundFile) };
}

class PowerPointReader {
  private recordCount = 0;
  private totalChars = 0;

  constructor(
    private readonly stream: Buffer,
    private readonly context: PptContext,
  ) {}

  /**
   * Follows the UserEditAtom chain from the newest save and merges the persist directories,
   * newer entries first. Returns undefined when the chain is damaged.
   */
  readPersistOffsets(currentEditOffset: number | undefined): PersistDirectory | undefined {
    if (currentEditOffset === undefined) {
      return undefined;
    }
    const offsets = new Map<number, number>();
    let documentRef: number | undefined;
    let editOffset = currentEditOffset;
    const visited = new Set<number>();

    for (let step = 0; step < MAX_EDIT_CHAIN && editOffset > 0 && !visited.has(editOffset); step += 1) {
      visited.add(editOffset);
      const edit = this.header(editOffset);
      if (!edit || edit.type !== RT_USER_EDIT_ATOM || edit.bodyEnd - edit.bodyStart < 28) {
        return undefined;
      }
      // encryptSessionPersistIdRef exists only in encrypted documents (MS-PPT).
      if (step === 0 && edit.bodyEnd - edit.bodyStart >= 32) {
        throw encryptedError(this.context.fileName);
      }
      documentRef ??= this.stream.readUInt32LE(edit.bodyStart + 16);
      const directory = this.header(this.stream.readUInt32LE(edit.bodyStart + 12));
      if (!directory || directory.type !== RT_PERSIST_DIRECTORY_ATOM) {
        return undefined;
      }
      this.readPersistDirectory(directory, offsets);
      editOffset = this.stream.readUInt32LE(edit.bodyStart + 8);
    }
    return documentRef === undefined ? undefined : { offsets, documentRef };
  }

  /** Slide and notes parts in the order of the document's slide list. */
  slidesInPresentationOrder(persist: PersistDirectory): ExtractedPart[] | undefined {
    const document = this.header(persist.offsets.get(persist.documentRef) ?? -1);
    if (!document || document.type !== RT_DOCUMENT) {
      return undefined;
    }
    const slideEntries = this.readSlideList(document, SLIDE_LIST_SLIDES);
    const notesEntries = this.readSlideList(document, SLIDE_LIST_NOTES);

    const notesBySlideId = new Map<number, RecordHeader>();
    for (const entry of notesEntries) {
      const notes = this.header(persist.offsets.get(entry.persistId) ?? -1);
      const notesAtom = notes?.type === RT_NOTES ? this.findChild(notes, RT_NOTES_ATOM) : undefined;
      if (notes && notesAtom && notesAtom.bodyEnd - notesAtom.bodyStart >= 4) {
        notesBySlideId.set(this.stream.readUInt32LE(notesAtom.bodyStart), notes);
      }
    }

    const parts: ExtractedPart[] = [];
    for (const [index, entry] of slideEntries.entries()) {
      const slide = this.header(persist.offsets.get(entry.persistId) ?? -1);
      const slideNumber = index + 1;
      const rendered = slide?.type === RT_SLIDE ? this.renderContainer(slide, entry.placeholderTexts) : undefined;
      const texts = rendered?.texts ?? entry.placeholderTexts;
      this.pushPart(parts, texts, { slide: slideNumber, ...(rendered?.hidden ? { hidden: true } : {}) });

      const notes = notesBySlideId.get(entry.slideId);
      if (notes) {
        this.pushPart(parts, this.renderContainer(notes, []).texts, { slide: slideNumber, notes: true });
      }
    }
    return parts;
  }

  /** Fallback for a damaged edit history: slide containers in the order they are stored. */
  slidesInStreamOrder(): ExtractedPart[] {
    const parts: ExtractedPart[] = [];
    let slideNumber = 0;
    for (const record of this.children(0, this.stream.length)) {
      if (record.type === RT_SLIDE) {
        slideNumber += 1;
        const rendered = this.renderContainer(record, []);
        this.pushPart(parts, rendered.texts, { slide: slideNumber, ...(rendered.hidden ? { hidden: true } : {}) });
      } else if (record.type === RT_NOTES && slideNumber > 0) {
        this.pushPart(parts, this.renderContainer(record, []).texts, { slide: slideNumber, notes: true });
      }
    }
    return parts;
  }

  private pushPart(parts: ExtractedPart[], texts: string[], metadata: Record<string, unknown>): void {
    const text = texts.filter((block) => block.trim() !== '').join('\n\n');
    parts.push({ text, metadata });
    this.totalChars += text.length;
    if (this.totalChars > this.context.maxTextChars) {
      throw textTooLargeError(this.context.fileName, this.context.maxTextChars);
    }
  }

  private readPersistDirectory(directory: RecordHeader, offsets: Map<number, number>): void {
    let position = directory.bodyStart;
    while (position + 4 <= directory.bodyEnd) {
      const entry = this.stream.readUInt32LE(position);
      const firstId = entry & 0xfffff;
      const count = entry >>> 20;
      position += 4;
      for (let index = 0; index < count && position + 4 <= directory.bodyEnd; index += 1) {
        // Entries of newer saves were merged first and win.
        if (!offsets.has(firstId + index)) {
          offsets.set(firstId + index, this.stream.readUInt32LE(position));
        }
        position += 4;
      }
    }
  }

  /** SlidePersistAtoms of one SlideListWithText instance, with the text atoms that follow each. */
  private readSlideList(document: RecordHeader, instance: number): SlideEntry[] {
    const entries: SlideEntry[] = [];
    for (const list of this.children(document.bodyStart, document.bodyEnd)) {
      if (list.type !== RT_SLIDE_LIST_WITH_TEXT || list.instance !== instance) {
        continue;
      }
      for (const record of this.children(list.bodyStart, list.bodyEnd)) {
        if (record.type === RT_SLIDE_PERSIST_ATOM && record.bodyEnd - record.bodyStart >= 16) {
          entries.push({
            persistId: this.stream.readUInt32LE(record.bodyStart),
            slideId: this.stream.readUInt32LE(record.bodyStart + 12),
            placeholderTexts: [],
          });
        } else if (entries.length > 0) {
          const text = this.textOf(record);
          if (text !== undefined) entries[entries.length - 1].placeholderTexts.push(text);
        }
      }
    }
    return entries;
  }

  /**
   * Collects the text atoms of a slide or notes container in stream order. An
   * OutlineTextRefAtom stands for the placeholder text with that index in SlideListWithText.
   * Shapes whose placeholder is generated (date, slide number, footer) are skipped.
   */
  private renderContainer(container: RecordHeader, placeholderTexts: string[]): { texts: string[]; hidden: boolean } {
    const texts: string[] = [];
    let hidden = false;

    // Each shape container gets its own state. Its placeholder atom, inside the client data,
    // comes before its text box, so the flag is set before the text is read.
    const walk = (start: number, end: number, shape: { skipped: boolean }): void => {
      for (const record of this.children(start, end)) {
        if (record.type === RT_SLIDE_SHOW_SLIDE_INFO_ATOM && record.bodyEnd - record.bodyStart >= 12) {
          // fHidden is bit 2 of the flags at offset 10 (MS-PPT SlideShowSlideInfoAtom).
          hidden = (this.stream.readUInt16LE(record.bodyStart + 10) & 0x0004) !== 0;
        } else if (record.type === RT_PLACEHOLDER_ATOM && record.bodyEnd - record.bodyStart >= 5) {
          shape.skipped ||= GENERATED_PLACEHOLDERS.has(this.stream[record.bodyStart + 4]);
        } else if (record.type === RT_ROUND_TRIP_HF_PLACEHOLDER_ATOM && record.bodyEnd - record.bodyStart >= 1) {
          shape.skipped ||= GENERATED_PLACEHOLDERS.has(this.stream[record.bodyStart]);
        } else if (record.type === RT_OUTLINE_TEXT_REF_ATOM && record.bodyEnd - record.bodyStart >= 4) {
          const text = placeholderTexts[this.stream.readUInt32LE(record.bodyStart)];
          if (text !== undefined && !shape.skipped) texts.push(text);
        } else if (record.version === 0xf) {
          walk(record.bodyStart, record.bodyEnd, record.type === RT_SHAPE_CONTAINER ? { skipped: false } : shape);
        } else {
          const text = this.textOf(record);
          if (text !== undefined && !shape.skipped) texts.push(text);
        }
      }
    };

    walk(container.bodyStart, container.bodyEnd, { skipped: false });
    return { texts, hidden };
  }

  /** Text of a TextCharsAtom (UTF-16LE) or TextBytesAtom (Latin-1), with line breaks normalised. */
  private textOf(record: RecordHeader): string | undefined {
    let raw: string;
    if (record.type === RT_TEXT_CHARS_ATOM) {
      raw = this.stream.subarray(record.bodyStart, record.bodyEnd - ((record.bodyEnd - record.bodyStart) % 2)).toString('utf16le');
    } else if (record.type === RT_TEXT_BYTES_ATOM) {
      raw = this.stream.subarray(record.bodyStart, record.bodyEnd).toString('latin1');
    } else {
      return undefined;
    }
    // Paragraphs end with a carriage return and line breaks are vertical tabs (MS-PPT).
    const text = raw.replace(/\r/g, '\n').replace(/\v/g, '\n');
    return text.trim() === FIELD_PLACEHOLDER_TEXT ? undefined : text;
  }

  private findChild(container: RecordHeader, type: number): RecordHeader | undefined {
    return this.children(container.bodyStart, container.bodyEnd).find((record) => record.type === type);
  }

  /** Records directly inside `[start, end)`. A record that overruns its parent ends the list. */
  private children(start: number, end: number): RecordHeader[] {
    const records: RecordHeader[] = [];
    let position = start;
    while (position + 8 <= end) {
      const record = this.header(position);
      if (!record || record.bodyEnd > end) {
        break;
      }
      records.push(record);
      position = record.bodyEnd;
    }
    return records;
  }

  private header(offset: number): RecordHeader | undefined {
    if (offset < 0 || offset + 8 > this.stream.length) {
      return undefined;
    }
    this.recordCount += 1;
    if (this.recordCount % 100_000 === 0) {
      this.context.deadline.throwIfExpired();
    }
    const versionAndInstance = this.stream.readUInt16LE(offset);
    const length = this.stream.readUInt32LE(offset + 4);
    const bodyStart = offset + 8;
    const bodyEnd = bodyStart + length;
    if (bodyEnd > this.stream.length) {
      return undefined;
    }
    return {
      offset,
      version: versionAndInstance & 0x0f,
      instance: versionAndInstance >>> 4,
      type: this.stream.readUInt16LE(offset + 2),
      bodyStart,
      bodyEnd,
    };
  }
}

function damagedError(fileName: string, reason: string, cause?: unknown): InvalidInputError {
  return new InvalidInputError(
    'ppt_damaged',
    `PowerPoint file "${fileName}" could not be read (${reason}). The file is damaged or is not a PowerPoint 97-2003 presentation, so save it again as .pptx and upload that.`,
    { file_name: fileName, reason },
    cause === undefined ? undefined : { cause },
  );
}

function encryptedError(fileName: string): InvalidInputError {
  return new InvalidInputError(
    'ppt_encrypted',
    `PowerPoint file "${fileName}" is password-protected. Remove the password in the presentation program and upload it again.`,
    { file_name: fileName },
  );
}
