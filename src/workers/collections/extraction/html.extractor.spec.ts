import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { HTML } from 'src/workers/collections/extraction/content-type';
import { extractDocument } from 'src/workers/collections/extraction/extract-document';
import { ExtractedDocument } from 'src/workers/collections/extraction/extraction.types';

const readCorpus = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name));
const extractHtmlString = (html: string, contentType = HTML): Promise<ExtractedDocument> =>
  extractDocument(Buffer.from(html, 'utf8'), 'page.html', contentType);

describe('HTML extraction', () => {
  let article: ExtractedDocument;

  beforeAll(async () => {
    article = await extractDocument(readCorpus('html-news-article-scripts-styles-nav-boilerplate.html'), 'isw.html', HTML);
  });

  it('extracts the article text', () => {
    expect(article.text).toContain('Belarusian forces remain unlikely to attack Ukraine despite a snap Belarusian military readiness check');
    expect(article.text).toContain('- Russia continues to use concepts of terrorism as a legal framework for domestic repression.');
    expect(article.text).toMatch(/^Russian Offensive Campaign Assessment, December 13\n\n/);
  });

  it('drops scripts, styles, menus and the footer', () => {
    for (const boilerplate of ['switchTo5x', 'GoogleAnalyticsObject', 'jQuery', '@import', 'Planned Giving', 'Who We Are', 'Search form', '1400 16th Street NW']) {
      expect(article.text).not.toContain(boilerplate);
    }
  });

  it('takes the title from the title element', () => {
    expect(article.title).toBe('Russian Offensive Campaign Assessment, December 13 | Institute for the Study of War');
    expect(article.metadata.language).toBe('en');
  });

  it('returns heading paths as segments', () => {
    expect(article.segments.map((segment) => segment.metadata.heading_path)).toEqual([
      ['Russian Offensive Campaign Assessment, December 13'],
      ['Russian Offensive Campaign Assessment, December 13', 'Tags'],
    ]);
    const tags = article.segments[1];
    expect(article.text.slice(tags.start, tags.end)).toMatch(/^Tags\n\nUkraine Project/);
  });

  it('decodes windows-1252 without a charset declaration', async () => {
    const document = await extractDocument(readCorpus('html-cp1252-no-charset-declared.html'), 'cp1252.html', HTML);

    expect(document.metadata.encoding).toBe('windows-1252');
    expect(document.text).toContain('Die schöne Frau hat einen Kaffee mit Kuchen gegessen.');
    expect(document.text).toContain('Der Preis betrug 15,50 €.');
    expect(document.text).toContain('El niño comió paella con ñoquis.');
    expect(document.title).toBe('My First Heading');
  });

  it('uses the charset of a meta tag', async () => {
    const koi8 = Buffer.concat([
      Buffer.from('<html><head><meta charset="koi8-r"></head><body><p>'),
      Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]), // "Привет" in KOI8-R
      Buffer.from('</p></body></html>'),
    ]);

    const document = await extractDocument(koi8, 'koi8.html', HTML);

    expect(document.text).toBe('Привет');
    expect(document.metadata.encoding).toBe('koi8-r');
  });

  it('keeps headings as their own paragraphs', async () => {
    const document = await extractHtmlString(
      '<h1>Guide</h1><p>Intro text.</p><h2>Setup</h2><p>Install it.<br>Run it.</p><h3>Linux</h3><p>Use apt.</p><h2>Usage</h2><p>Call it.</p>',
    );

    expect(document.text).toBe('Guide\n\nIntro text.\n\nSetup\n\nInstall it.\nRun it.\n\nLinux\n\nUse apt.\n\nUsage\n\nCall it.');
    expect(document.segments.map((segment) => segment.metadata.heading_path)).toEqual([
      ['Guide'],
      ['Guide', 'Setup'],
      ['Guide', 'Setup', 'Linux'],
      ['Guide', 'Usage'],
    ]);
    for (const segment of document.segments) {
      const path = segment.metadata.heading_path as string[];
      expect(document.text.slice(segment.start, segment.end).startsWith(path[path.length - 1])).toBe(true);
    }
  });

  it('renders table rows on one line each', async () => {
    const document = await extractHtmlString(
      '<table><thead><tr><th>Name</th><th>Size</th></tr></thead><tbody><tr><td>a.txt</td><td>3 KB</td></tr></tbody></table>',
    );

    expect(document.text).toBe('Name | Size\n\na.txt | 3 KB');
  });

  it('drops hidden elements and navigation', async () => {
    const document = await extractHtmlString(
      '<nav>Home About</nav><div role="navigation">Menu</div><p>Visible</p><p hidden>Hidden</p><noscript>Enable JS</noscript><template><p>Row</p></template><svg><text>Logo</text></svg><footer>Copyright</footer>',
    );

    expect(document.text).toBe('Visible');
  });

  it('rejects a page without visible text', async () => {
    await expect(extractHtmlString('<html><head><title>Empty</title><script>var a = 1;</script></head><body> </body></html>')).rejects.toMatchObject({
      code: 'empty_document',
    });
  });
});

describe('extractHtml nesting limit', () => {
  it('rejects markup nested thousands of elements deep', async () => {
    const html = Buffer.from(`<html><body>${'<div>'.repeat(5000)}deep${'</div>'.repeat(5000)}</body></html>`);
    await expect(extractDocument(html, 'nested.html', 'text/html')).rejects.toMatchObject({ code: 'document_too_complex' });
  });

  it('accepts thousands of unclosed list items', async () => {
    const html = Buffer.from(`<html><body><ul>${'<li>item'.repeat(5000)}</ul></body></html>`);
    const document = await extractDocument(html, 'list.html', 'text/html');
    expect(document.text).toContain('item');
  });
});
