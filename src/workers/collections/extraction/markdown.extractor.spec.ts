import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { MARKDOWN } from 'src/workers/collections/extraction/content-type';
import { extractDocument } from 'src/workers/collections/extraction/extract-document';
import { ExtractedDocument } from 'src/workers/collections/extraction/extraction.types';

const readCorpus = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name));
const extractMarkdownString = (markdown: string): Promise<ExtractedDocument> =>
  extractDocument(Buffer.from(markdown, 'utf8'), 'notes.md', MARKDOWN);
const headingPaths = (document: ExtractedDocument): unknown[] =>
  document.segments.map((segment) => segment.metadata.heading_path);

describe('Markdown extraction', () => {
  it('keeps GitHub-flavoured Markdown as written', async () => {
    const source = readCorpus('md-gfm-table-codefence-strikethrough.md');

    const document = await extractDocument(source, 'gfm.md', MARKDOWN);

    expect(document.text).toBe(source.toString('utf8').trim());
    expect(document.text).toContain('| L | C | R |\n|:--|:-:|--:|\n| a | b | c |');
    expect(document.text).toContain('```java title="Example"\nSystem.out.println("hi");\n```');
    expect(document.text).toContain('~~struck~~');
    expect(document.title).toBe('Title');
    expect(document.segments).toEqual([{ start: 0, end: document.text.length, metadata: { heading_path: ['Title'] } }]);
  });

  it('finds every heading of a long README', async () => {
    const document = await extractDocument(readCorpus('md-pdfplumber-readme-tables-code.md'), 'README.md', MARKDOWN);

    expect(document.segments).toHaveLength(36);
    expect(document.title).toBe('pdfplumber');
    expect(headingPaths(document).slice(0, 5)).toEqual([
      ['pdfplumber'],
      ['pdfplumber', 'Table of Contents'],
      ['pdfplumber', 'Installation'],
      ['pdfplumber', 'Command line interface'],
      ['pdfplumber', 'Command line interface', 'Basic example'],
    ]);
    for (const segment of document.segments) {
      expect(document.text.slice(segment.start, segment.end)).toMatch(/^#{1,6} /);
    }
  });

  it('ignores headings inside fenced code', async () => {
    const document = await extractMarkdownString('# Guide\n\n```bash\n# install\npip install x\n```\n\n~~~\n## not a heading\n~~~\n\n## Usage\n\nRun it.');

    expect(headingPaths(document)).toEqual([['Guide'], ['Guide', 'Usage']]);
    expect(document.text).toContain('# install\npip install x');
  });

  it('reads setext headings and front matter', async () => {
    const document = await extractMarkdownString(
      '---\ntitle: "Release notes"\n---\n\nVersion 2\n=========\n\nIntro.\n\nFixes\n-----\n\n- bug one\n\n---\n\nAfter a rule.',
    );

    expect(document.title).toBe('Release notes');
    expect(headingPaths(document)).toEqual([['Version 2'], ['Version 2', 'Fixes']]);
    expect(document.text.slice(document.segments[1].start, document.segments[1].end)).toBe(
      'Fixes\n-----\n\n- bug one\n\n---\n\nAfter a rule.',
    );
  });

  it('keeps indentation of nested lists and code', async () => {
    const document = await extractMarkdownString('- item\n    - nested  item\n\n        indented   code');

    expect(document.text).toBe('- item\n    - nested  item\n\n        indented   code');
  });

  it('strips inline markup from heading paths', async () => {
    const document = await extractMarkdownString('## The `pdfplumber.PDF` class ##\n\nText.\n\n### [Links](https://example.com) and **bold**');

    expect(headingPaths(document)).toEqual([['The pdfplumber.PDF class'], ['The pdfplumber.PDF class', 'Links and bold']]);
  });
});
