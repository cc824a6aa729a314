import { XMLParser } from 'fast-xml-parser';

import { InvalidInputError } from 'src/common/app-error';
import { ExtractedPart, ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import { findMetaCharset } from 'src/workers/collections/extraction/html.extractor';
import { decodeText } from 'src/workers/collections/extraction/text-decoding';

/** One node of fast-xml-parser's `preserveOrder` output: `{ tag: children }` or `{ '#text': text }`. */
type OrderedNode = Record<string, unknown>;

const TEXT_KEY = '#text';
// Deeper documents are rejected: real documents nest a few dozen levels, and the walk below
// recurses once per level.
const MAX_NESTING = 512;

/**
 * Extracts the text nodes of an XML document in document order. An element with text of its
 * own, such as a paragraph with inline markup, becomes one paragraph of its whole text. The
 * leaf elements of a record-like element, whose children are all distinct leaves (a `country`
 * with `name` and `capital`), become `name: value` lines. Each child of the root element is
 * one part with its `xml_path`, such as `/factbook/country[2]`. The title is the first
 * `title` element. Comments, processing instructions and attributes are dropped, and entities
 * declared in a DTD are not expanded, so entity bombs stay inert.
 * Throws `xml_invalid` when the parser rejects the document.
 */
export function extractXml(data: Buffer, fileName: string, declaredCharset?: string): ExtractorResult {
  const { text, encoding } = decodeText(data, declaredCharset ?? findMetaCharset(data));
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
    processEntities: true,
    // Decodes numeric character references such as &#233;, which the XML entity step leaves as written.
    htmlEntities: true,
    trimValues: false,
    parseTagValue: false,
    maxNestedTags: MAX_NESTING,
  });

  let nodes: OrderedNode[];
  try {
    nodes = parser.parse(text.replace(/^\uFEFF/, '')) as OrderedNode[];
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidInputError(
      'xml_invalid',
      `XML file "${fileName}" could not be parsed (${reason}). Check that it is well-formed XML.`,
      { file_name: fileName, reason },
      { cause: error },
    );
  }

  const root = nodes.find((node) => elementName(node) !== undefined);
  const parts: ExtractedPart[] = [];
  if (root) {
    const rootName = elementName(root)!;
    const rootChildren = childrenOf(root);
    if (hasOwnText(rootChildren)) {
      parts.push({ text: renderBlocks(root).join('\n\n'), metadata: { xml_path: `/${rootName}` } });
    } else {
      for (const { node, path } of indexedChildren(rootChildren, `/${rootName}`)) {
        parts.push({ text: renderBlocks(node).join('\n\n'), metadata: { xml_path: path } });
      }
    }
  }

  const title = root ? findTitle(root) : undefined;
  return { parts, ...(title ? { title } : {}), metadata: { encoding, ...(root ? { root_element: elementName(root) } : {}) } };
}

function elementName(node: OrderedNode): string | undefined {
  return Object.keys(node).find((key) => key !== TEXT_KEY && key !== ':@');
}

function childrenOf(node: OrderedNode): OrderedNode[] {
  const name = elementName(node);
  const children = name === undefined ? undefined : node[name];
  return Array.isArray(children) ? (children as OrderedNode[]) : [];
}

function textOf(node: OrderedNode): string | undefined {
  const value = node[TEXT_KEY];
  return value === undefined ? undefined : String(value);
}

function hasOwnText(children: OrderedNode[]): boolean {
  return children.some((child) => (textOf(child) ?? '').trim() !== '');
}

function isLeaf(node: OrderedNode): boolean {
  return childrenOf(node).every((child) => textOf(child) !== undefined);
}

function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1);
}

/** Child elements with paths; a name that repeats among the siblings gets a 1-based index. */
function indexedChildren(children: OrderedNode[], parentPath: string): { node: OrderedNode; path: string }[] {
  const elements = children.filter((child) => elementName(child) !== undefined);
  const totals = new Map<string, number>();
  for (const element of elements) {
    const name = elementName(element)!;
    totals.set(name, (totals.get(name) ?? 0) + 1);
  }

  const seen = new Map<string, number>();
  return elements.map((node) => {
    const name = elementName(node)!;
    const position = (seen.get(name) ?? 0) + 1;
    seen.set(name, position);
    return { node, path: totals.get(name)! > 1 ? `${parentPath}/${name}[${position}]` : `${parentPath}/${name}` };
  });
}

/** Renders an element as paragraphs in document order, following the rules of `extractXml`. */
function renderBlocks(node: OrderedNode): string[] {
  const children = childrenOf(node);
  if (hasOwnText(children)) {
    const text = inlineText(node);
    return text === '' ? [] : [text];
  }

  const elements = children.filter((child) => elementName(child) !== undefined);
  const names = elements.map((child) => elementName(child)!);
  const isRecord = elements.length >= 2 && elements.every(isLeaf) && new Set(names).size === names.length;
  if (isRecord) {
    const fields = elements
      .map((child) => ({ label: localName(elementName(child)!), value: inlineText(child) }))
      .filter((field) => field.value !== '')
      .map((field) => `${field.label}: ${field.value}`);
    return fields.length > 0 ? [fields.join('\n')] : [];
  }
  return elements.flatMap(renderBlocks);
}

/**
 * Joins the text under `node` and collapses whitespace runs to one space. An empty element (a line
 * break such as `<text:line-break/>`) and the boundary between two adjacent elements count as
 * a space, so that words in separate elements do not run together.
 */
function inlineText(node: OrderedNode): string {
  const pieces: string[] = [];
  const collect = (current: OrderedNode): void => {
    const children = childrenOf(current);
    if (children.length === 0) {
      pieces.push(' ');
      return;
    }
    children.forEach((child, index) => {
      const text = textOf(child);
      if (text !== undefined) {
        pieces.push(text);
        return;
      }
      if (index > 0 && textOf(children[index - 1]) === undefined) {
        pieces.push(' ');
      }
      collect(child);
    });
  };
  collect(node);
  return pieces.join('').replace(/\s+/g, ' ').trim();
}

function findTitle(node: OrderedNode): string | undefined {
  const name = elementName(node);
  if (name !== undefined && localName(name).toLowerCase() === 'title') {
    const text = inlineText(node);
    if (text !== '') {
      return text;
    }
  }
  for (const child of childrenOf(node)) {
    const title = findTitle(child);
    if (title) {
      return title;
    }
  }
  return undefined;
}
