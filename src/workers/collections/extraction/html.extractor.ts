import { convert } from 'html-to-text';

import { ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import { renderHtml } from 'src/workers/collections/extraction/html-rendering';
import { canonicalCharset, decodeText } from 'src/workers/collections/extraction/text-decoding';

// Elements whose text is not page content: code, metadata, forms, and site chrome
// (navigation, banners, footers, sidebars, menus), matched by tag, ARIA role and a few class names.
// Limitation: site chrome built from plain divs without these markers stays in the text.
const BOILERPLATE_SELECTORS = [
  'head',
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'canvas',
  'iframe',
  'object',
  'embed',
  'form',
  'button',
  'select',
  'nav',
  'aside',
  'footer',
  'body > header',
  '[role="navigation"]',
  '[role="banner"]',
  '[role="contentinfo"]',
  '[role="complementary"]',
  '[role="search"]',
  '[hidden]',
  '[aria-hidden="true"]',
  'ul[class*="menu"]',
  'ol[class*="menu"]',
  '.element-invisible',
  '.visually-hidden',
  '.sr-only',
];

// The HTML standard looks for a charset declaration in the first 1024 bytes. Pages with long
// heads often place it later, so a larger window is scanned.
const CHARSET_SCAN_BYTES = 4096;

/** Extracts the visible text of an HTML page, split into sections at its headings. */
export function extractHtml(data: Buffer, declaredCharset?: string): ExtractorResult {
  const { text: html, encoding } = decodeText(data, declaredCharset ?? findMetaCharset(data));
  const rendered = renderHtml(html, { skipSelectors: BOILERPLATE_SELECTORS });

  const firstTopHeading = rendered.headings.find((heading) => heading.level === 1) ?? rendered.headings[0];
  const title = findTitle(html) ?? firstTopHeading?.text;
  const language = /<html\b[^>]*\blang\s*=\s*["']?([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)/i.exec(html)?.[1];

  const metadata: Record<string, unknown> = { encoding };
  if (language) {
    metadata.language = language;
  }
  return { parts: rendered.parts, title, metadata };
}

/** Reads `<meta charset>` or the charset in `<meta http-equiv="Content-Type">`. */
export function findMetaCharset(data: Buffer): string | undefined {
  const head = data.subarray(0, CHARSET_SCAN_BYTES).toString('latin1');
  const meta =
    /<meta\s[^>]*\bcharset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)/i.exec(head) ??
    /<\?xml\s[^>]*\bencoding\s*=\s*["']([A-Za-z0-9_.:-]+)/i.exec(head);
  const label = meta?.[1];
  // A UTF-16 declaration inside bytes readable as ASCII is wrong by construction; the HTML
  // standard reads such a page as UTF-8.
  if (!label || canonicalCharset(label)?.startsWith('utf-16')) {
    return undefined;
  }
  return label;
}

function findTitle(html: string): string | undefined {
  const match = /<title\b[^>]*>([\s\S]*?)<\/title\s*>/i.exec(html);
  if (!match) {
    return undefined;
  }
  const title = convert(match[1], { wordwrap: false }).replace(/\s+/g, ' ').trim();
  return title || undefined;
}
