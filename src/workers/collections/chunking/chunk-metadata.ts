import { TextSegment } from 'src/workers/collections/extraction/extraction.types';

/** Segment keys whose values are also collected from every overlapping segment, under the plural key. */
const COLLECTED_KEYS: Record<string, string> = { page: 'pages', slide: 'slides' };

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
   * Returns the metadata of the segments that `[start, end)` overlaps. Each key takes its
   * value from the first overlapping segment that has it (`heading_path`, `sheet`, ...). For
   * `page` and `slide` the value is the lowest number, and `pages` and `slides` list every
   * number, sorted.
   */
  metadataFor(start: number, end: number): Record<string, unknown> {
    while (this.cursor < this.segments.length && this.segments[this.cursor].end <= start) {
      this.cursor += 1;
    }

    const result: Record<string, unknown> = {};
    const collected = new Map<string, number[]>();
    for (let index = this.cursor; index < this.segments.length && this.segments[index].start < end; index += 1) {
      for (const [key, value] of Object.entries(this.segments[index].metadata)) {
        if (key in COLLECTED_KEYS) {
          if (typeof value === 'number') {
            const numbers = collected.get(key) ?? [];
            if (!numbers.includes(value)) numbers.push(value);
            collected.set(key, numbers);
          }
        } else if (!(key in result) && value !== undefined) {
          result[key] = value;
        }
      }
    }

    for (const [key, numbers] of collected) {
      numbers.sort((a, b) => a - b);
      result[key] = numbers[0];
      result[COLLECTED_KEYS[key]] = numbers;
    }
    return result;
  }
}
