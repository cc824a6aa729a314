import { ExtractionDeadline } from 'src/workers/collections/extraction/extraction-deadline';
import { textTooLargeError } from 'src/workers/collections/extraction/extraction-errors';
import { ExtractedPart, ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import {
  damagedPackageError,
  PackageFormat,
  Relationship,
  rejectOle2Package,
  ZipPackage,
} from 'src/workers/collections/extraction/office-package';
import { localName, scanXml } from 'src/workers/collections/extraction/xml-scanner';

export interface PptxContext {
  fileName: string;
  deadline: ExtractionDeadline;
  maxTextChars: number;
}

/** A paragraph or table row of a slide, or a chart or SmartArt part to read in its place. */
type SlideBlock = string | { relationshipId: string };

interface RenderedSlide {
  blocks: SlideBlock[];
  hidden: boolean;
  /** Text of the title placeholder, when the slide has one. */
  title?: string;
}

const PPTX_FORMAT: PackageFormat = { label: 'PPTX', codePrefix: 'pptx', application: 'the presentation program' };

const RELATIONSHIPS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/';
const OFFICE_DOCUMENT_RELATIONSHIP = `${RELATIONSHIPS}officeDocument`;
const SLIDE_RELATIONSHIP = `${RELATIONSHIPS}slide`;

// Placeholders whose text is generated or repeated from the master on every page: slide
// number, date, header and footer, and on notes pages the slide thumbnail.
const GENERATED_PLACEHOLDERS = new Set(['sldNum', 'dt', 'hdr', 'ftr', 'sldImg']);
const TITLE_PLACEHOLDERS = new Set(['title', 'ctrTitle']);

/**
 * Extracts a PPTX presentation: one part per slide in presentation order (`{ slide: n }`,
 * plus `hidden: true` for hidden slides), then the slide's speaker notes
 * (`{ slide: n, notes: true }`) and comments (`{ slide: n, comments: true }`). Slide text
 * comes from text frames, tables (`cell | cell` rows), groups, charts and SmartArt in the
 * order of the shape tree. Slide number, date, header and footer placeholders are left out,
 * because their text repeats on every slide.
 * Fails with `pptx_encrypted`, `pptx_not_ooxml`, `pptx_damaged`, `pptx_too_large` or `text_too_large`.
 */
export async function extractPptx(data: Buffer, context: PptxContext): Promise<ExtractorResult> {
  const { fileName, deadline } = context;
  rejectOle2Package(data, fileName, PPTX_FORMAT, 'ppt');
  const zip = await ZipPackage.open(data, fileName, PPTX_FORMAT);

  const presentationPart = (await zip.readRelationships('')).find((rel) => rel.type === OFFICE_DOCUMENT_RELATIONSHIP)?.target;
  if (!presentationPart || !zip.has(presentationPart)) {
    throw damagedPackageError(fileName, PPTX_FORMAT, 'the presentation part is missing');
  }
  const { slides: slidePartNames, isPresentation } = await readSlideOrder(zip, presentationPart);
  if (!isPresentation) {
    throw damagedPackageError(fileName, PPTX_FORMAT, `the main part "${presentationPart}" is not a presentation`);
  }

  const parts: ExtractedPart[] = [];
  const hiddenSlides: number[] = [];
  let firstSlideTitle: string | undefined;
  let totalChars = 0;
  for (const [index, slidePart] of slidePartNames.entries()) {
    deadline.throwIfExpired();
    const slideNumber = index + 1;
    const relationships = await zip.readRelationships(slidePart);
    const slide = await renderSlidePart(zip, slidePart, deadline);
    if (!slide) {
      continue;
    }
    if (slide.hidden) {
      hiddenSlides.push(slideNumber);
    }
    firstSlideTitle ??= slide.title;

    const slideTexts: ExtractedPart[] = [
      {
        text: await resolveBlocks(zip, slide.blocks, relationships, deadline),
        metadata: { slide: slideNumber, ...(slide.hidden ? { hidden: true } : {}) },
      },
    ];
    const notesPart = relationships.find((rel) => rel.type.endsWith('/notesSlide'))?.target;
    const notes = notesPart ? await renderSlidePart(zip, notesPart, deadline) : undefined;
    if (notes && notesPart) {
      const notesRelationships = await zip.readRelationships(notesPart);
      slideTexts.push({
        text: await resolveBlocks(zip, notes.blocks, notesRelationships, deadline),
        metadata: { slide: slideNumber, notes: true },
      });
    }
    const comments = await readComments(zip, relationships, deadline);
    if (comments) {
      slideTexts.push({ text: comments, metadata: { slide: slideNumber, comments: true } });
    }

    for (const part of slideTexts) {
      totalChars += part.text.length;
      if (totalChars > context.maxTextChars) {
        throw textTooLargeError(fileName, context.maxTextChars);
      }
      parts.push(part);
    }
  }

  const core = await zip.readCoreProperties();
  return {
    parts,
    title: core.title ?? firstSlideTitle,
    metadata: {
      slide_count: slidePartNames.length,
      ...(hiddenSlides.length > 0 ? { hidden_slides: hiddenSlides } : {}),
      ...(core.author ? { author: core.author } : {}),
    },
  };
}

/** Slide part names in the order of `p:sldIdLst`, which is the presentation order. */
async function readSlideOrder(
  zip: ZipPackage,
  presentationPart: string,
): Promise<{ slides: string[]; isPresentation: boolean }> {
  const relationships = await zip.readRelationships(presentationPart);
  const slideTargets = new Map(
    relationships.filter((rel) => rel.type === SLIDE_RELATIONSHIP).map((rel) => [rel.id, rel.target]),
  );
  const slides: string[] = [];
  let isPresentation = false;
  await zip.scanPart(presentationPart, (xml) =>
    scanXml(xml, {
      openElement: (name, attributes) => {
        isPresentation ||= localName(name) === 'presentation';
        const target = localName(name) === 'sldId' ? slideTargets.get(attributes['r:id'] ?? '') : undefined;
        if (target) {
          slides.push(target);
        }
      },
    }),
  );
  return { slides, isPresentation };
}

/** Renders a slide or notes slide part, or returns undefined when the part is missing. */
async function renderSlidePart(
  zip: ZipPackage,
  part: string,
  deadline: ExtractionDeadline,
): Promise<RenderedSlide | undefined> {
  let slide: RenderedSlide | undefined;
  await zip.scanPart(part, (xml) => {
    slide = renderSlideXml(xml, deadline);
  });
  return slide;
}

interface ShapeState {
  skipped: boolean;
  isTitle: boolean;
  paragraphs: string[];
}

interface TableState {
  rows: string[];
  cells: string[] | undefined;
  cellParagraphs: string[] | undefined;
}

/**
 * Renders the shape tree of a PresentationML slide, notes slide or layout. Each text frame
 * paragraph becomes one line and each table row one `cell | cell` line. Charts and SmartArt
 * diagrams are returned as relationship references to read afterwards.
 */
export function renderSlideXml(xml: string, deadline?: ExtractionDeadline): RenderedSlide {
  const blocks: SlideBlock[] = [];
  const shapes: ShapeState[] = [];
  const tables: TableState[] = [];
  let hidden = false;
  let title: string | undefined;
  let paragraph: string | undefined;
  let inText = false;
  let fallbackDepth = 0;

  const finishParagraph = (text: string): void => {
    const table = tables[tables.length - 1];
    const shape = shapes[shapes.length - 1];
    if (table?.cellParagraphs) {
      table.cellParagraphs.push(text);
    } else if (shape) {
      shape.paragraphs.push(text);
    } else {
      blocks.push(text);
    }
  };

  scanXml(
    xml,
    {
      openElement: (name, attributes) => {
        const local = localName(name);
        // Markup compatibility: mc:Choice contains the current markup and mc:Fallback an
        // older copy of the same content, so only the first is read.
        if (fallbackDepth > 0 || local === 'Fallback') {
          fallbackDepth += 1;
          return;
        }
        switch (local) {
          case 'sld':
            hidden = attributes.show === '0' || attributes.show === 'false';
            break;
          case 'sp':
            shapes.push({ skipped: false, isTitle: false, paragraphs: [] });
            break;
          case 'ph': {
            const shape = shapes[shapes.length - 1];
            const type = attributes.type ?? '';
            if (shape && GENERATED_PLACEHOLDERS.has(type)) shape.skipped = true;
            if (shape && TITLE_PLACEHOLDERS.has(type)) shape.isTitle = true;
            break;
          }
          case 'p':
            paragraph = '';
            break;
          case 't':
            inText = paragraph !== undefined;
            break;
          case 'br':
            if (paragraph !== undefined) paragraph += '\n';
            break;
          case 'tbl':
            tables.push({ rows: [], cells: undefined, cellParagraphs: undefined });
            break;
          case 'tr':
            if (tables.length > 0) tables[tables.length - 1].cells = [];
            break;
          case 'tc':
            if (tables.length > 0) tables[tables.length - 1].cellParagraphs = [];
            break;
          case 'chart':
            if (attributes['r:id']) blocks.push({ relationshipId: attributes['r:id'] });
            break;
          case 'relIds':
            // SmartArt: r:dm names the diagram data part, which contains the node text.
            if (attributes['r:dm']) blocks.push({ relationshipId: attributes['r:dm'] });
            break;
        }
      },
      closeElement: (name) => {
        const local = localName(name);
        if (fallbackDepth > 0) {
          fallbackDepth -= 1;
          return;
        }
        const table = tables[tables.length - 1];
        switch (local) {
          case 'p':
            if (paragraph !== undefined) {
              finishParagraph(paragraph);
              paragraph = undefined;
            }
            break;
          case 't':
            inText = false;
            break;
          case 'sp': {
            const shape = shapes.pop();
            const text = shape && !shape.skipped ? shape.paragraphs.join('\n').trim() : '';
            if (text !== '') {
              blocks.push(text);
              if (shape?.isTitle) title ??= text.replace(/\s+/g, ' ');
            }
            break;
          }
          case 'tc':
            if (table?.cellParagraphs && table.cells) {
              table.cells.push(table.cellParagraphs.map((text) => text.trim()).filter(Boolean).join(' '));
            }
            if (table) table.cellParagraphs = undefined;
            break;
          case 'tr':
            if (table?.cells) {
              const cells = table.cells.filter((text) => text !== '');
              if (cells.length > 0) table.rows.push(cells.join(' | '));
            }
            if (table) table.cells = undefined;
            break;
          case 'tbl':
            tables.pop();
            if (table && table.rows.length > 0) finishParagraph(table.rows.join('\n'));
            break;
        }
      },
      text: (text) => {
        if (inText && fallbackDepth === 0 && paragraph !== undefined) paragraph += text;
      },
    },
    deadline,
  );

  return { blocks, hidden, ...(title ? { title } : {}) };
}

/** Joins slide blocks, reading the text of referenced chart and SmartArt parts in place. */
async function resolveBlocks(
  zip: ZipPackage,
  blocks: SlideBlock[],
  relationships: Relationship[],
  deadline: ExtractionDeadline,
): Promise<string> {
  const texts: string[] = [];
  for (const block of blocks) {
    if (typeof block === 'string') {
      texts.push(block);
      continue;
    }
    const target = relationships.find((rel) => rel.id === block.relationshipId)?.target;
    if (target) {
      texts.push(await readDrawingText(zip, target, deadline));
    }
  }
  return texts.filter((text) => text.trim() !== '').join('\n\n');
}

/** Text runs (`a:t`) of a chart or diagram data part, one paragraph per line. */
async function readDrawingText(zip: ZipPackage, part: string, deadline: ExtractionDeadline): Promise<string> {
  const lines: string[] = [];
  let line: string | undefined;
  let inText = false;
  await zip.scanPart(part, (xml) =>
    scanXml(
      xml,
      {
        openElement: (name) => {
          const local = localName(name);
          if (local === 'p') line = '';
          else if (local === 't') inText = line !== undefined;
        },
        closeElement: (name) => {
          const local = localName(name);
          if (local === 't') {
            inText = false;
          } else if (local === 'p' && line !== undefined) {
            if (line.trim() !== '') lines.push(line.trim());
            line = undefined;
          }
        },
        text: (text) => {
          if (inText) line += text;
        },
      },
      deadline,
    ),
  );
  return lines.join('\n');
}

/** Comment text of a slide, one comment per line, from legacy and modern comment parts. */
async function readComments(
  zip: ZipPackage,
  relationships: Relationship[],
  deadline: ExtractionDeadline,
): Promise<string> {
  const comments: string[] = [];
  for (const relationship of relationships.filter((rel) => rel.type.endsWith('/comments'))) {
    let comment: string | undefined;
    let inText = false;
    await zip.scanPart(relationship.target, (xml) =>
      scanXml(
        xml,
        {
          openElement: (name) => {
            const local = localName(name);
            if (local === 'cm') comment = '';
            // Legacy comments keep their text in p:text, modern ones in DrawingML runs.
            else if (local === 'text' || local === 't') inText = comment !== undefined;
            else if (local === 'p' && comment) comment += '\n';
          },
          closeElement: (name) => {
            const local = localName(name);
            if (local === 'text' || local === 't') {
              inText = false;
            } else if (local === 'cm' && comment !== undefined) {
              if (comment.trim() !== '') comments.push(comment.trim());
              comment = undefined;
            }
          },
          text: (text) => {
            if (inText) comment += text;
          },
        },
        deadline,
      ),
    );
  }
  return comments.join('\n\n');
}
