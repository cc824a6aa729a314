import { InvalidInputError } from 'src/common/app-error';
import { ExtractionDeadline } from 'src/workers/collections/extraction/extraction-deadline';
import { textTooLargeError } from 'src/workers/collections/extraction/extraction-errors';
import { ExtractedPart, ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import { findMetaCharset } from 'src/workers/collections/extraction/html.extractor';
import { renderHtml } from 'src/workers/collections/extraction/html-rendering';
import { damagedPackageError, PackageFormat, resolvePartName, ZipPackage } from 'src/workers/collections/extraction/office-package';
import { decodeText } from 'src/workers/collections/extraction/text-decoding';
import { localName, scanXml } from 'src/workers/collections/extraction/xml-scanner';

export interface EpubContext {
  fileName: string;
  deadline: ExtractionDeadline;
  maxTextChars: number;
}

interface ManifestItem {
  href: string;
  mediaType: string;
  properties: string;
}

interface PackageDocument {
  title?: string;
  author?: string;
  language?: string;
  manifest: Map<string, ManifestItem>;
  /** Spine items in reading order, with `linear="no"` items flagged. */
  spine: { idref: string; linear: boolean }[];
  /** Manifest id of the EPUB 2 NCX table of contents (`spine toc`). */
  ncxId?: string;
}

const EPUB_FORMAT: PackageFormat = { label: 'EPUB', codePrefix: 'epub', application: 'the e-book editor' };

const CONTAINER_PART = 'META-INF/container.xml';
const ENCRYPTION_PART = 'META-INF/encryption.xml';
const HTML_MEDIA_TYPES = new Set(['application/xhtml+xml', 'text/html']);

// Algorithms that obfuscate embedded fonts (IDPF and Adobe). They do not protect the text.
const FONT_OBFUSCATION_ALGORITHMS = new Set(['http://www.idpf.org/2008/embedding', 'http://ns.adobe.com/pdf/enc#RC']);

const SKIPPED_SELECTORS = ['head', 'script', 'style', 'noscript', 'template'];

/**
 * Extracts an EPUB 2 or 3 book: the XHTML documents of the spine in reading order, each
 * split at its headings, with `{ chapter: n, title }`. `n` counts the spine documents that
 * have text. `title` is the document's entry in the table of contents (NCX or EPUB 3
 * navigation document), else its first heading. Documents marked `linear="no"`, such as
 * cover pages, follow the linear ones and carry `linear: false`.
 * Fails with `epub_damaged`, `epub_encrypted` (DRM on content documents), `epub_too_large`
 * or `text_too_large`.
 */
export async function extractEpub(data: Buffer, context: EpubContext): Promise<ExtractorResult> {
  const { fileName, deadline } = context;
  const zip = await ZipPackage.open(data, fileName, EPUB_FORMAT);

  const packagePath = await readRootfilePath(zip, fileName);
  const book = await readPackageDocument(zip, packagePath);
  const items = [...book.spine.filter((entry) => entry.linear), ...book.spine.filter((entry) => !entry.linear)]
    .map((entry) => ({ ...entry, item: book.manifest.get(entry.idref) }))
    .filter((entry) => entry.item && HTML_MEDIA_TYPES.has(entry.item.mediaType));
  if (items.length === 0) {
    throw damagedPackageError(fileName, EPUB_FORMAT, 'the spine lists no XHTML documents');
  }
  await rejectEncryptedContent(zip, fileName, new Set(items.map((entry) => entry.item?.href ?? '')));
  const tocTitles = await readTableOfContents(zip, book, deadline);

  const parts: ExtractedPart[] = [];
  let chapter = 0;
  let totalChars = 0;
  for (const { item, linear } of items) {
    deadline.throwIfExpired();
    const bytes = item ? await zip.readBytes(item.href) : undefined;
    if (!bytes) {
      continue;
    }
    const { text: html } = decodeText(bytes, findMetaCharset(bytes));
    const rendered = renderHtml(html, { skipSelectors: SKIPPED_SELECTORS });
    const chapterParts = rendered.parts.filter((part) => part.text.trim() !== '');
    if (chapterParts.length === 0) {
      continue;
    }

    chapter += 1;
    const title = tocTitles.get(item!.href) ?? rendered.headings[0]?.text;
    for (const part of chapterParts) {
      totalChars += part.text.length;
      if (totalChars > context.maxTextChars) {
        throw textTooLargeError(fileName, context.maxTextChars);
      }
      parts.push({
        text: part.text,
        metadata: { chapter, ...(title ? { title } : {}), ...part.metadata, ...(linear ? {} : { linear: false }) },
      });
    }
  }

  return {
    parts,
    title: book.title,
    metadata: {
      chapter_count: chapter,
      ...(book.author ? { author: book.author } : {}),
      ...(book.language ? { language: book.language } : {}),
    },
  };
}

/** Path of the package document (OPF) from `META-INF/container.xml` (EPUB OCF). */
async function readRootfilePath(zip: ZipPackage, fileName: string): Promise<string> {
  let rootfile: string | undefined;
  const found = await zip.scanPart(CONTAINER_PART, (xml) =>
    scanXml(xml, {
      openElement: (name, attributes) => {
        if (localName(name) === 'rootfile' && !rootfile && attributes['full-path']) {
          rootfile = attributes['full-path'];
        }
      },
    }),
  );
  if (!found) {
    throw damagedPackageError(fileName, EPUB_FORMAT, `"${CONTAINER_PART}" is missing`);
  }
  if (!rootfile || !zip.has(rootfile)) {
    throw damagedPackageError(fileName, EPUB_FORMAT, `the package document "${rootfile ?? ''}" is missing`);
  }
  return rootfile;
}

/** Reads metadata, manifest and spine of the package document, with manifest hrefs resolved to part names. */
async function readPackageDocument(zip: ZipPackage, packagePath: string): Promise<PackageDocument> {
  const book: PackageDocument = { manifest: new Map(), spine: [] };
  const fields: Record<string, string> = {};
  let field: string | undefined;

  await zip.scanPart(packagePath, (xml) =>
    scanXml(xml, {
      openElement: (name, attributes) => {
        const local = localName(name);
        if (local === 'item' && attributes.id && attributes.href) {
          book.manifest.set(attributes.id, {
            href: resolvePartName(packagePath, attributes.href),
            mediaType: (attributes['media-type'] ?? '').toLowerCase(),
            properties: attributes.properties ?? '',
          });
        } else if (local === 'itemref' && attributes.idref) {
          book.spine.push({ idref: attributes.idref, linear: attributes.linear !== 'no' });
        } else if (local === 'spine') {
          book.ncxId = attributes.toc;
        } else if (name.startsWith('dc:') && fields[local] === undefined) {
          field = local;
          fields[local] = '';
        }
      },
      closeElement: () => {
        field = undefined;
      },
      text: (text) => {
        if (field) fields[field] += text;
      },
    }),
  );

  const clean = (value: string | undefined): string | undefined => value?.replace(/\s+/g, ' ').trim() || undefined;
  book.title = clean(fields.title);
  book.author = clean(fields.creator);
  book.language = clean(fields.language);
  return book;
}

/** Fails with `epub_encrypted` when `META-INF/encryption.xml` encrypts a content document. */
async function rejectEncryptedContent(zip: ZipPackage, fileName: string, contentParts: Set<string>): Promise<void> {
  const encrypted: string[] = [];
  let algorithm = '';
  await zip.scanPart(ENCRYPTION_PART, (xml) =>
    scanXml(xml, {
      openElement: (name, attributes) => {
        const local = localName(name);
        if (local === 'EncryptionMethod') {
          algorithm = attributes.Algorithm ?? '';
        } else if (local === 'CipherReference' && attributes.URI && !FONT_OBFUSCATION_ALGORITHMS.has(algorithm)) {
          // URIs in encryption.xml are relative to the container root (EPUB Open Container Format).
          encrypted.push(resolvePartName('', attributes.URI));
        }
      },
    }),
  );
  const protectedPart = encrypted.find((part) => contentParts.has(part));
  if (protectedPart) {
    throw new InvalidInputError(
      'epub_encrypted',
      `EPUB file "${fileName}" is protected by DRM (content document "${protectedPart}" is encrypted). Upload a copy without DRM.`,
      { file_name: fileName, part: protectedPart },
    );
  }
}

/**
 * Maps content documents to the label of their first table-of-contents entry, from the EPUB 3
 * navigation document when there is one, else from the EPUB 2 NCX.
 */
async function readTableOfContents(
  zip: ZipPackage,
  book: PackageDocument,
  deadline: ExtractionDeadline,
): Promise<Map<string, string>> {
  const titles = new Map<string, string>();
  const navigation = [...book.manifest.values()].find((item) => item.properties.split(/\s+/).includes('nav'));
  const ncx = book.ncxId ? book.manifest.get(book.ncxId) : undefined;
  const source = navigation ?? ncx;
  if (!source) {
    return titles;
  }

  // NCX: navPoint > navLabel > text, then content@src. Navigation document: a@href with its text.
  let label: string | undefined;
  let inLabel = false;
  const addEntry = (target: string | undefined, text: string | undefined): void => {
    const title = text?.replace(/\s+/g, ' ').trim();
    if (!target || !title) return;
    const part = resolvePartName(source.href, target);
    if (!titles.has(part)) titles.set(part, title);
  };
  let linkTarget: string | undefined;

  await zip.scanPart(source.href, (xml) =>
    scanXml(
      xml,
      {
        openElement: (name, attributes) => {
          const local = localName(name);
          if (local === 'navLabel') {
            label = '';
          } else if (local === 'text' && label !== undefined) {
            inLabel = true;
          } else if (local === 'content' && label !== undefined) {
            addEntry(attributes.src, label);
            label = undefined;
          } else if (local === 'a' && navigation) {
            linkTarget = attributes.href;
            label = '';
            inLabel = true;
          }
        },
        closeElement: (name) => {
          const local = localName(name);
          if (local === 'text') {
            inLabel = false;
          } else if (local === 'a' && linkTarget !== undefined) {
            addEntry(linkTarget, label);
            linkTarget = undefined;
            label = undefined;
            inLabel = false;
          }
        },
        text: (text) => {
          if (inLabel && label !== undefined) label += text;
        },
      },
      deadline,
    ),
  );
  return titles;
}
