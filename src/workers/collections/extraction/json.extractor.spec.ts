import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { InvalidInputError } from 'src/common/app-error';
import { JSON_TYPE, NDJSON } from 'src/workers/collections/extraction/content-type';
import { extractDocument } from 'src/workers/collections/extraction/extract-document';
import { flattenToLines } from 'src/workers/collections/extraction/json.extractor';

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

describe('JSON extraction', () => {
  it('splits the Twitter response into one part per status', async () => {
    const document = await extractDocument(readCorpus('json-twitter-search-api-response.json'), 'twitter.json', JSON_TYPE);

    expect(document.metadata).toMatchObject({ encoding: 'utf-8', record_count: 100 });
    expect(document.segments.slice(0, 2).map((segment) => segment.metadata)).toEqual([
      { json_path: 'statuses[0]' },
      { json_path: 'statuses[1]' },
    ]);
    const first = document.text.slice(document.segments[0].start, document.segments[0].end);
    expect(first).toMatch(/^statuses\[0\]\.metadata\.result_type: recent\n/);
    expect(first).toContain('statuses[0].id_str: 505874924095815681');
    expect(first).toContain('statuses[0].text: @aym0566x 名前:前田あゆみ 第一印象:なんか怖っ！');
    expect(first).toContain('statuses[0].user.screen_name: ');
    expect(document.text).toContain('search_metadata.count: 100');
    expect(document.text.indexOf('statuses[99]')).toBeLessThan(document.text.indexOf('search_metadata.count'));
  });

  it('flattens nested values in document order', () => {
    const lines = flattenToLines({ user: { name: 'Ada', tags: ['math', 'poetry'], empty: '', none: null }, 'odd key': true, n: 0 });

    expect(lines).toEqual(['user.name: Ada', 'user.tags[0]: math', 'user.tags[1]: poetry', '["odd key"]: true', 'n: 0']);
  });

  it('makes one part per element of a top-level array', async () => {
    const data = Buffer.from(JSON.stringify([{ title: 'First', body: 'one\ntwo' }, { title: 'Second' }, 'loose string']));

    const document = await extractDocument(data, 'records.json', JSON_TYPE);
    expect(document.text).toBe('[0].title: First\n[0].body: one two\n\n[1].title: Second\n\n[2]: loose string');
    expect(document.segments.map((segment) => segment.metadata.json_path)).toEqual(['[0]', '[1]', '[2]']);
  });

  it('survives deep nesting', async () => {
    const depth = 5000;
    const data = Buffer.from(`${'{"a":'.repeat(depth)}"bottom"${'}'.repeat(depth)}`);

    const document = await extractDocument(data, 'deep.json', JSON_TYPE);
    expect(document.text).toMatch(/^a(\.a)+\.…: bottom$/);
    expect(document.text.length).toBeLessThan(100);
  });

  it('rejects invalid JSON', async () => {
    const error = await errorOf(extractDocument(Buffer.from('{"a": 1,,}'), 'broken.json', JSON_TYPE));

    expect(error.code).toBe('json_invalid');
    expect(error.message).toContain('broken.json');
  });

  it('rejects JSON without values', async () => {
    expect((await errorOf(extractDocument(Buffer.from('{"a": null, "b": []}'), 'nulls.json', JSON_TYPE))).code).toBe('empty_document');
  });
});

describe('NDJSON extraction', () => {
  it('names array rows by the header row', async () => {
    const document = await extractDocument(readCorpus('ndjson-amazon-cellphones-array-rows.ndjson'), 'phones.ndjson', NDJSON);

    expect(document.metadata).toMatchObject({
      record_count: 792,
      invalid_line_count: 0,
      header_row: ['asin', 'brand', 'title', 'url', 'image', 'rating', 'reviewUrl', 'totalReviews', 'prices'],
    });
    expect(document.segments[0].metadata).toEqual({ line: 2 });
    expect(document.text).toMatch(/^asin: B0000SX2UC\nbrand: Nokia\ntitle: Dual-Band \/ Tri-Mode Sprint PCS Phone/);
    expect(document.text).toContain('asin: B0009N5L7K\nbrand: Motorola\ntitle: Motorola I265 phone');
    expect(document.text).toContain('prices: $49.95');
  });

  it('reports invalid lines without failing', async () => {
    const data = Buffer.from('{"id": 1, "text": "first"}\nnot json\n\n{"id": 2, "text": "second"}\n{"id": 3,\n');

    const document = await extractDocument(data, 'events.ndjson', NDJSON);
    expect(document.text).toBe('id: 1\ntext: first\n\nid: 2\ntext: second');
    expect(document.metadata).toMatchObject({ record_count: 2, invalid_line_count: 2, invalid_lines: [2, 5] });
    expect(document.segments.map((segment) => segment.metadata.line)).toEqual([1, 4]);
  });

  it('rejects a file with no valid line', async () => {
    const error = await errorOf(extractDocument(Buffer.from('nope\nstill nope\n'), 'bad.ndjson', NDJSON));

    expect(error.code).toBe('ndjson_invalid');
    expect(error.details).toMatchObject({ invalid_line_count: 2, invalid_lines: [1, 2] });
  });
});
