import { TextSegment } from 'src/workers/collections/extraction/extraction.types';

/**
 * Looks up the segments a chunk overlaps. Chunks must be queried in increasing order of
 * `start`, and segments must be ordered and non-overlapping, as `extractDocument` returns them.
 */
export class SegmentIndex {
  private readonly segments: TextSegment[];
  private cursor = 0;

  constructor(segments: TextSegment[] = []) {
    this.segments = [...segments].sort((a, b) => a.start - b.start);
  }

  /**
   * Returns `page` (first page) and `pages` (all pages) when overlapping segments carry a
   * page number, and `heading_path` of the first overlapping segment that has one.
   */
  metadataFor(start: number, end: number): Record<string, unknown> {
    while (this.cursor < this.segments.length && this.segments[this.cursor].end <= start) {
      this.cursor += 1;
    }

    const pages: number[] = [];
    let headingPath: unknown;
    for (let index = this.cursor; index < this.segments.length && this.segments[index].start < end; index += 1) {
      const { metadata } = this.segments[index];
      if (typeof metadata.page === 'number' && !pages.includes(metadata.page)) {
        pages.push(metadata.page);
      }
      if (headingPath === undefined && Array.isArray(metadata.heading_path)) {
        headingPath = metadata.heading_path;
      }
    }

    const result: Record<string, unknown> = {};
    if (pages.length > 0) {
      pages.sort((a, b) => a - b);
      result.page = pages[0];
      result.pages = pages;
    }
    if (headingPath !== undefined) {
      result.heading_path = headingPath;
    }
    return result;
  }
}
