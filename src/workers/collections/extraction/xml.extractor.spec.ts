import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { InvalidInputError } from 'src/common/app-error';
import { LOG, XML } from 'src/workers/collections/extraction/content-type';
import { extractDocument } from 'src/workers/collections/extraction/extract-document';

const readCorpus = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name));

async function errorOf(work: Promise<unknown>): Promise<InvalidInputError> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof InvalidInputError)) {
    throw new Error(`expected an InvalidInputError, got ${String(error)}`);
  }
  return error;
}

describe('XML extraction', () => {
  it('reads UTF-16 with a BOM as records', async () => {
    const document = await extractDocument(readCorpus('xml-factbook-utf16-bom.xml'), 'factbook.xml', XML);

    expect(document.metadata).toMatchObject({ encoding: 'utf-16le', root_element: 'factbook' });
    expect(document.segments.map((segment) => segment.metadata.xml_path)).toEqual([
      '/factbook/country[1]',
      '/factbook/country[2]',
      '/factbook/country[3]',
      '/factbook/country[4]',
    ]);
    expect(document.text).toMatch(/^name: United States\ncapital: Washington, DC\nleader: Joe Biden\nsport: Baseball\n\nname: Canada/);
    expect(document.text).toContain('name: Trinidad & Tobado\ncapital: Port of Spain');
    expect(document.text).toContain('sport: Track & Field');
  });

  it('extracts a TEI article in document order', async () => {
    const document = await extractDocument(readCorpus('xml-tei-grobid-scholarly-article.xml'), 'article.xml', XML);

    expect(document.title).toBe('Bi-criteria Algorithm for Scheduling Jobs on Cluster Platforms *');
    // The article body element is empty in this GROBID output, so the header is the only part.
    expect(document.segments.map((segment) => segment.metadata.xml_path)).toEqual(['/TEI/teiHeader']);
    expect(document.text).toContain('forename: Pierre-François\nsurname: Dutot');
    expect(document.text).toContain('We describe in this paper a new method for building an efficient algorithm for scheduling jobs in a cluster.');
    expect(document.text).not.toContain('Licensed to the Apache Software Foundation');

    const order = ['Bi-criteria Algorithm for Scheduling Jobs', 'Pierre-François', 'Lionel', 'Moldable Tasks, Bi-criteria', 'We describe in this paper'];
    const positions = order.map((phrase) => document.text.indexOf(phrase));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('separates words in adjacent and empty elements', async () => {
    const data = Buffer.from('<doc><p>First<br/>line <b>bold</b><i>italic</i> and &#233;t&#xE9;</p></doc>');

    const document = await extractDocument(data, 'inline.xml', XML);
    expect(document.text).toBe('First line bold italic and été');
  });

  it('leaves DTD entities unexpanded', async () => {
    const entities = Array.from({ length: 9 }, (_, level) => `<!ENTITY l${level + 1} "${`&l${level};`.repeat(10)}">`).join('');
    const data = Buffer.from(`<?xml version="1.0"?><!DOCTYPE bomb [<!ENTITY l0 "lol">${entities}]><bomb>start &l9; end</bomb>`);

    const document = await extractDocument(data, 'laughs.xml', XML);
    expect(document.text.length).toBeLessThan(100);
    expect(document.text).toContain('start');
  });

  it('rejects nesting past the parser limit', async () => {
    const data = Buffer.from(`${'<a>'.repeat(1000)}x${'</a>'.repeat(1000)}`);

    expect((await errorOf(extractDocument(data, 'deep.xml', XML))).code).toBe('xml_invalid');
  });

  it('rejects XML without text', async () => {
    expect((await errorOf(extractDocument(Buffer.from('<a><b/><c>  </c></a>'), 'blank.xml', XML))).code).toBe('empty_document');
  });
});

describe('log extraction', () => {
  it('keeps lines and indentation with line ranges', async () => {
    const lines = Array.from({ length: 250 }, (_, index) => `2025-01-01T00:00:${String(index % 60).padStart(2, '0')} INFO request ${index + 1}`);
    lines[10] = 'java.lang.IllegalStateException: boom';
    lines[11] = '    at com.example.Service.run(Service.java:42)';

    const document = await extractDocument(Buffer.from(lines.join('\n') + '\n'), 'app.log', LOG);
    expect(document.text).toContain('java.lang.IllegalStateException: boom\n    at com.example.Service.run(Service.java:42)');
    expect(document.segments.map((segment) => segment.metadata)).toEqual([
      { line_start: 1, line_end: 200 },
      { line_start: 201, line_end: 250 },
    ]);
    expect(document.metadata).toMatchObject({ line_count: 250, encoding: 'utf-8' });
  });
});
