import { CORPUS_DIR } from 'src/testing/corpus';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import {
  canonicalContentType,
  detectContentType,
  DOCM,
  DOCX,
  DOTX,
  isSupportedContentType,
  RTF,
  SUPPORTED_CONTENT_TYPES,
  XLSM,
  XLSX,
} from 'src/workers/collections/extraction/content-type';

const SNIFF_BYTES = 8192;
const headOf = (name: string): Buffer => readFileSync(path.join(CORPUS_DIR, name)).subarray(0, SNIFF_BYTES);

describe('detectContentType', () => {
  it.each([
    ['pdf-two-column-arxiv-dpr-paper.pdf', 'application/pdf'],
    ['pdf-missing-eof-marker.pdf', 'application/pdf'],
    ['docx-nested-tables-bookmarks-header-footer.docx', DOCX],
    ['docx-truncated-zip.docx', DOCX],
    ['docx-password-encrypted-ooxml.docx', DOCX],
    ['xlsx-financial-segments-five-sheets-formulas.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    ['pptx-bullets-subbullets-table.pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
    ['odt-french-poem-footnotes-comments.odt', 'application/vnd.oasis.opendocument.text'],
    ['ods-two-sheets-simple.ods', 'application/vnd.oasis.opendocument.spreadsheet'],
    ['epub-two-chapters-toc.epub', 'application/epub+zip'],
    ['zip-mixed-office-pdf-html-xml.zip', 'application/zip'],
    ['doc-word97-nested-tables-headings.doc', 'application/msword'],
    ['xls-three-sheets-numbers-and-squares.xls', 'application/vnd.ms-excel'],
    ['ppt-tables-footnotes-header-footer.ppt', 'application/vnd.ms-powerpoint'],
    ['rtf-japanese-shift-jis-hex-escapes.rtf', 'application/rtf'],
    ['gz-gzipped-odf-content-xml.xml.gz', 'application/gzip'],
    ['html-news-article-scripts-styles-nav-boilerplate.html', 'text/html'],
    ['md-gfm-table-codefence-strikethrough.md', 'text/markdown'],
    ['txt-latin1-multilanguage-phrases.txt', 'text/plain'],
    ['txt-utf16le-bom.txt', 'text/plain'],
    ['csv-utf16be-bom-stanley-cups.csv', 'text/csv'],
    ['json-twitter-search-api-response.json', 'application/json'],
    ['xml-factbook-utf16-bom.xml', 'application/xml'],
    ['eml-qp-html-body-base64-text-attachment.eml', 'message/rfc822'],
  ])('detects %s as %s', (name, expected) => {
    expect(detectContentType(headOf(name), name)).toBe(expected);
  });

  it('prefers magic bytes to the extension', () => {
    expect(detectContentType(headOf('pdf-missing-eof-marker.pdf'), 'report.txt')).toBe('application/pdf');
  });

  it('tells ZIP containers apart without an extension', () => {
    expect(detectContentType(headOf('docx-nested-tables-bookmarks-header-footer.docx'), 'upload')).toBe(DOCX);
    expect(detectContentType(headOf('odt-french-poem-footnotes-comments.odt'), 'upload')).toBe(
      'application/vnd.oasis.opendocument.text',
    );
    expect(detectContentType(headOf('epub-two-chapters-toc.epub'), 'upload')).toBe('application/epub+zip');
  });

  it('tells OOXML variants apart by extension', () => {
    const docx = headOf('docx-nested-tables-bookmarks-header-footer.docx');
    const xlsx = headOf('xlsx-financial-segments-five-sheets-formulas.xlsx');

    expect(detectContentType(docx, 'macros.docm')).toBe(DOCM);
    expect(detectContentType(docx, 'letter.dotx')).toBe(DOTX);
    expect(detectContentType(xlsx, 'budget.xlsm')).toBe(XLSM);
    // An extension of another family does not override the package's part folders.
    expect(detectContentType(xlsx, 'budget.docm')).toBe(XLSX);
    expect(detectContentType(headOf('docx-password-encrypted-ooxml.docx'), 'secret.xlsm')).toBe(XLSM);
  });

  it('sniffs RTF without an extension', () => {
    expect(detectContentType(Buffer.from('{\\rtf1\\ansi hello}'), 'upload')).toBe(RTF);
    expect(detectContentType(Buffer.from('{\\rtf hello}'), 'notes.rtf')).toBe(RTF);
  });

  it('keeps Markdown that starts with a bracket', () => {
    expect(detectContentType(Buffer.from('[link](https://example.com)\n'), 'README.md')).toBe('text/markdown');
  });

  it('sniffs text without a known extension', () => {
    expect(detectContentType(Buffer.from('plain notes\n'), 'NOTES')).toBe('text/plain');
    expect(detectContentType(Buffer.from('{"a": 1}'), 'data')).toBe('application/json');
    expect(detectContentType(Buffer.from('<!DOCTYPE html><html></html>'), 'index')).toBe('text/html');
    expect(detectContentType(Buffer.from([0xff, 0xfe, 0x41, 0x00]), 'utf16')).toBe('text/plain');
  });

  it.each([
    ['tar-nested-folder-tgz-txt.tar', 'application/x-tar'],
    ['tgz-mixed-documents.tgz', 'application/gzip'],
    ['zip-containing-zip-with-html.zip', 'application/zip'],
    ['ndjson-amazon-cellphones-array-rows.ndjson', 'application/x-ndjson'],
    ['xml-tei-grobid-scholarly-article.xml', 'application/xml'],
    ['eml-hebrew-windows-1255-qp-base64.eml', 'message/rfc822'],
  ])('detects data and container file %s as %s', (name, expected) => {
    expect(detectContentType(headOf(name), name)).toBe(expected);
  });

  it('detects logs, TSV and JSON Lines by extension', () => {
    expect(detectContentType(Buffer.from('2025-01-01 INFO started\n'), 'app.log')).toBe('text/x-log');
    expect(detectContentType(Buffer.from('a\tb\n1\t2\n'), 'table.tsv')).toBe('text/tab-separated-values');
    expect(detectContentType(Buffer.from('{"a":1}\n{"a":2}\n'), 'events.jsonl')).toBe('application/x-ndjson');
  });

  it('reports binary data as octet-stream', () => {
    expect(detectContentType(Buffer.from([0x01, 0x00, 0x02, 0x03]), 'blob.bin')).toBe('application/octet-stream');
  });
});

describe('isSupportedContentType', () => {
  it('accepts the supported types, their aliases and parameters', () => {
    for (const type of SUPPORTED_CONTENT_TYPES) {
      expect(isSupportedContentType(type)).toBe(true);
    }
    expect(isSupportedContentType('text/plain; charset=UTF-16LE')).toBe(true);
    expect(isSupportedContentType('Text/X-Markdown')).toBe(true);
    expect(isSupportedContentType('application/xhtml+xml')).toBe(true);
  });

  it('rejects other types', () => {
    for (const type of ['application/octet-stream', 'image/png', 'video/mp4']) {
      expect(isSupportedContentType(type)).toBe(false);
    }
  });

  it('canonicalises a content type', () => {
    expect(canonicalContentType(' TEXT/HTML ; charset=utf-8')).toBe('text/html');
  });
});
