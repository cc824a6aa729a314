import { convert, DomNode, FormatCallback, HtmlToTextOptions, SelectorDefinition } from 'html-to-text';

import { ExtractedPart } from 'src/workers/collections/extraction/extraction.types';

export interface RenderedHtml {
  /** Text before the first heading, then one part per heading with its `heading_path`. */
  parts: ExtractedPart[];
  headings: { level: number; text: string }[];
}

export interface RenderHtmlOptions {
  /** CSS selectors of elements whose text is dropped, such as navigation or scripts. */
  skipSelectors: string[];
}

// While html-to-text renders, each heading's first line gets a private-use marker with the
// heading level, so headings can be found in the plain text afterwards. The markers are
// removed there.
// NOTE: a literal U+E000, digit, U+E001 sequence in the source is also read as a heading.
const HEADING_MARKER = /\uE000([1-6])\uE001/g;
const headingMarker = (level: string): string => `\uE000${level}\uE001`;

const HEADING_TAGS = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];

// Heading paths are labels; longer heading text is cut to keep chunk metadata small.
const MAX_HEADING_CHARS = 200;

const formatHeading: FormatCallback = (elem, walk, builder) => {
  builder.openBlock({ leadingLineBreaks: 2 });
  builder.addInline(headingMarker(String(elem.name).slice(1)), { noWordTransform: true });
  walk(elem.children ?? [], builder);
  builder.closeBlock({ trailingLineBreaks: 2 });
};

/**
 * Renders a table row by row. A row whose cells are one line each becomes `a | b | c`, which
 * keeps data tables readable. A row with multi-line cells (layout or nested tables) becomes
 * one paragraph per cell, so that page text laid out in cells keeps its paragraphs.
 */
const formatTable: FormatCallback = (elem, walk, builder) => {
  builder.openTable();

  const walkTableChild = (node: DomNode): void => {
    if (node.type !== 'tag') {
      return;
    }
    if (['thead', 'tbody', 'tfoot'].includes(String(node.name))) {
      (node.children ?? []).forEach(walkTableChild);
      return;
    }
    if (node.name !== 'tr') {
      return;
    }
    builder.openTableRow();
    for (const cell of node.children ?? []) {
      if (cell.type === 'tag' && (cell.name === 'td' || cell.name === 'th')) {
        builder.openTableCell({ maxColumnWidth: Number.MAX_SAFE_INTEGER });
        walk(cell.children ?? [], builder);
        builder.closeTableCell({ colspan: 1, rowspan: 1 });
      }
    }
    builder.closeTableRow();
  };
  (elem.children ?? []).forEach(walkTableChild);

  builder.closeTable({ tableToString: renderTableRows, leadingLineBreaks: 2, trailingLineBreaks: 2 });
};

function renderTableRows(rows: { text: string }[][]): string {
  return rows
    .map((cells) => cells.map((cell) => cell.text.trim()).filter((text) => text !== ''))
    .filter((cells) => cells.length > 0)
    .map((cells) =>
      cells.every((text) => !text.includes('\n'))
        ? cells.map((text) => text.replace(HEADING_MARKER, '')).join(' | ')
        : cells.join('\n\n'),
    )
    .join('\n\n');
}

/**
 * Renders HTML to plain text with html-to-text: no line wrapping, links as their text,
 * images dropped, headings as their own paragraphs, and `skipSelectors` removed.
 * Splits the result into sections at headings.
 */
export function renderHtml(html: string, options: RenderHtmlOptions): RenderedHtml {
  const selectors: SelectorDefinition[] = [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'table', format: 'sectionTable' },
    { selector: 'ul', options: { itemPrefix: '- ' } },
    ...HEADING_TAGS.map((tag) => ({ selector: tag, format: 'sectionHeading' })),
    ...options.skipSelectors.map((selector) => ({ selector, format: 'skip' })),
  ];
  const conversionOptions: HtmlToTextOptions = {
    wordwrap: false,
    selectors,
    formatters: { sectionHeading: formatHeading, sectionTable: formatTable },
    // html-to-text truncates input above 16 MiB by default and only warns; the extraction
    // limits on file size and text length apply instead.
    limits: { maxInputLength: 0 },
  };

  return splitAtHeadings(convert(html, conversionOptions));
}

function splitAtHeadings(rendered: string): RenderedHtml {
  const parts: ExtractedPart[] = [];
  const headings: { level: number; text: string }[] = [];
  const path: { level: number; text: string }[] = [];
  let current: string[] = [];
  let currentMetadata: Record<string, unknown> = {};

  for (const line of rendered.split('\n')) {
    const match = /\uE000([1-6])\uE001/.exec(line);
    const cleanLine = line.replace(HEADING_MARKER, '');
    const headingText = cleanLine.replace(/\s+/g, ' ').trim().slice(0, MAX_HEADING_CHARS);
    if (!match || headingText === '') {
      current.push(cleanLine);
      continue;
    }

    parts.push({ text: current.join('\n'), metadata: currentMetadata });
    const level = Number(match[1]);
    while (path.length > 0 && path[path.length - 1].level >= level) {
      path.pop();
    }
    path.push({ level, text: headingText });
    headings.push({ level, text: headingText });
    current = [cleanLine];
    currentMetadata = { heading_path: path.map((entry) => entry.text) };
  }
  parts.push({ text: current.join('\n'), metadata: currentMetadata });

  return { parts, headings };
}
