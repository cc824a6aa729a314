import { ExtractionDeadline } from 'src/workers/collections/extraction/extraction-deadline';

/** Attribute values of one element by qualified name (`r:id`, `table:name`), entities decoded. */
export type XmlAttributes = Record<string, string>;

/** Callbacks of `scanXml`. Element names are passed as written, with their prefix. */
export interface XmlHandler {
  openElement?(name: string, attributes: XmlAttributes): void;
  /** Called for every element, right after `openElement` for an empty element such as `<br/>`. */
  closeElement?(name: string): void;
  /** Character data between tags, CDATA included, with entities decoded. */
  text?(text: string): void;
}

/** Malformed XML, such as a tag or comment that never ends. */
export class XmlSyntaxError extends Error {}

// The deadline is checked once per this many tags, which keeps the check cheap.
const TAGS_PER_DEADLINE_CHECK = 50_000;

const PREDEFINED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const ENTITY_REFERENCE = /&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z][\w.-]*);/g;
const ATTRIBUTE = /([^\s=/]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/**
 * Scans an XML document in one pass and reports elements and text to `handler`, in the
 * style of a SAX parser. Office formats use it because a DOM of a large worksheet takes
 * many times the size of its XML in memory, while the scanner keeps only the current tag.
 * Time is linear in the input, and `deadline` is checked while it runs.
 * Limitation: it checks only what it needs to read text: that tags, comments and CDATA
 * sections end. It does not check that start and end tags match, and it skips DOCTYPE
 * declarations, so entities other than the five predefined ones and character references
 * are left as written.
 */
export function scanXml(xml: string, handler: XmlHandler, deadline?: ExtractionDeadline): void {
  let position = 0;
  let tagCount = 0;

  while (position < xml.length) {
    const tagStart = xml.indexOf('<', position);
    if (tagStart === -1) {
      emitText(handler, xml.slice(position));
      return;
    }
    if (tagStart > position) {
      emitText(handler, xml.slice(position, tagStart));
    }

    tagCount += 1;
    if (deadline && tagCount % TAGS_PER_DEADLINE_CHECK === 0) {
      deadline.throwIfExpired();
    }

    if (xml.startsWith('<!--', tagStart)) {
      position = endOf(xml, '-->', tagStart + 4, 'comment');
    } else if (xml.startsWith('<![CDATA[', tagStart)) {
      const end = endOf(xml, ']]>', tagStart + 9, 'CDATA section');
      handler.text?.(xml.slice(tagStart + 9, end - 3));
      position = end;
    } else if (xml.startsWith('<?', tagStart)) {
      position = endOf(xml, '?>', tagStart + 2, 'processing instruction');
    } else if (xml.startsWith('<!', tagStart)) {
      position = skipDeclaration(xml, tagStart);
    } else {
      position = readTag(xml, tagStart, handler);
    }
  }
}

/** Returns the local part of a qualified name: `p` for `w:p`. */
export function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

/** Replaces the predefined entities and character references in XML character data. */
export function decodeXmlEntities(text: string): string {
  if (!text.includes('&')) {
    return text;
  }
  return text.replace(ENTITY_REFERENCE, (reference: string, body: string) => {
    if (body.startsWith('#')) {
      const codePoint = body[1] === 'x' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return codePoint > 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : '';
    }
    return PREDEFINED_ENTITIES[body] ?? reference;
  });
}

/** Decodes the bytes of an XML part: UTF-16 after a UTF-16 byte order mark, else UTF-8. */
export function decodeXmlBytes(data: Buffer): string {
  if (data[0] === 0xff && data[1] === 0xfe) {
    return data.subarray(2).toString('utf16le');
  }
  if (data[0] === 0xfe && data[1] === 0xff) {
    const swapped = Buffer.from(data.subarray(2));
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  const text = data.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function emitText(handler: XmlHandler, raw: string): void {
  if (handler.text) {
    handler.text(decodeXmlEntities(raw));
  }
}

function endOf(xml: string, terminator: string, from: number, construct: string): number {
  const end = xml.indexOf(terminator, from);
  if (end === -1) {
    throw new XmlSyntaxError(`XML ${construct} starting at offset ${from} does not end`);
  }
  return end + terminator.length;
}

/** Skips `<!DOCTYPE ...>` including an internal subset in brackets. */
function skipDeclaration(xml: string, start: number): number {
  let depth = 0;
  for (let index = start + 2; index < xml.length; index += 1) {
    const character = xml[index];
    if (character === '[') depth += 1;
    else if (character === ']') depth -= 1;
    else if (character === '>' && depth <= 0) return index + 1;
  }
  throw new XmlSyntaxError(`XML declaration starting at offset ${start} does not end`);
}

/** Reads a start, end or empty-element tag at `start` and returns the offset after it. */
function readTag(xml: string, start: number, handler: XmlHandler): number {
  let quote = '';
  let end = -1;
  for (let index = start + 1; index < xml.length; index += 1) {
    const character = xml[index];
    if (quote) {
      if (character === quote) quote = '';
    } else if (character === '"' || character === "'") {
      quote = character;
    } else if (character === '>') {
      end = index;
      break;
    }
  }
  if (end === -1) {
    throw new XmlSyntaxError(`XML tag starting at offset ${start} does not end`);
  }

  if (xml[start + 1] === '/') {
    handler.closeElement?.(xml.slice(start + 2, end).trim());
    return end + 1;
  }

  const selfClosing = xml[end - 1] === '/';
  const body = xml.slice(start + 1, selfClosing ? end - 1 : end);
  const nameEnd = body.search(/[\s/]/);
  const name = nameEnd === -1 ? body : body.slice(0, nameEnd);
  if (handler.openElement) {
    handler.openElement(name, nameEnd === -1 ? {} : parseAttributes(body.slice(nameEnd)));
  }
  if (selfClosing) {
    handler.closeElement?.(name);
  }
  return end + 1;
}

function parseAttributes(source: string): XmlAttributes {
  const attributes: XmlAttributes = Object.create(null) as XmlAttributes;
  for (const match of source.matchAll(ATTRIBUTE)) {
    attributes[match[1]] = decodeXmlEntities(match[2] ?? match[3]);
  }
  return attributes;
}
