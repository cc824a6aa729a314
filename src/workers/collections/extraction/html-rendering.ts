import { InvalidInputError } from 'src/common/app-error';
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
// Real pages rarely nest more than a few dozen elements.
const MAX_HTML_DEPTH = 256;

// Elements that never have a closing tag, so they do not deepen the tree.
const VOID_ELEMENTS = new Set([
  'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr',
]);
// Elements whose end tag HTML allows to be left out (a list of 5,000 unclosed <li> is normal),
// so they are not counted either.
const OPTIONAL_END_ELEMENTS = new Set([
  'html', 'head', 'body', 'p', 'li', 'dt', 'dd', 'tr', 'td', 'th', 'thead', 'tbody', 'tfoot',
  'option', 'optgroup', 'colgroup', 'caption', 'rb', 'rt', 'rp', 'rtc',
]);
// Nesting beyond this fails the file: parsing such markup takes seconds of synchronous work.
const MAX_OPEN_ELEMENTS = 2000;

/**
 * Rejects markup nested so deeply that parsing it would block the event loop for seconds
 * (a 2 MB page of 200,000 nested elements took about 20 s on a 2-core machine). A linear scan
 * of the tags is enough. Unclosed tags other than those HTML lets stay open count as open, which
 * errs on the side of rejecting.
 */
function assertReasonableNesting(html: string): void {
  const tag = /<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g;
  let depth = 0;
  for (let match = tag.exec(html); match; match = tag.exec(html)) {
    const name = match[2].toLowerCase();
    if (VOID_ELEMENTS.has(name) || OPTIONAL_END_ELEMENTS.has(name) || match[3] === '/') continue;
    depth += match[1] === '/' ? -1 : 1;
    if (depth > MAX_OPEN_ELEMENTS) {
      throw new InvalidInputError(
        'document_too_complex',
        `the markup nests more than ${MAX_OPEN_ELEMENTS} elements deep; simplify its structure and upload it again`,
      );
    }
    if (depth < 0) depth = 0;
  }
}

export function renderHtml(html: string, options: RenderHtmlOptions): RenderedHtml {
  assertReasonableNesting(html);
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
    // Deeper markup is cut off: html-to-text walks the tree recursively, and a page nested
    // 200,000 elements deep would block the event loop for seconds before overflowing the stack.
    limits: { maxInputLength: 0, maxDepth: MAX_HTML_DEPTH },
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
