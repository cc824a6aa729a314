import { ChunkSpan, OverlapStartTest, packAtoms, Span, toChunkSpans } from 'src/workers/collections/chunking/chunk-packing';
import { appendAll, TextAtom, trimmedEnd } from 'src/workers/collections/chunking/text-atoms';

/**
 * A fenced code block or a table: kept whole in one chunk when it fits, else split on its own
 * lines or rows with its header repeated before every chunk after the first.
 */
export interface StructuredBlock {
  start: number;
  end: number;
  /**
   * End of the header lines that open the block (the opening fence line, or the table header
   * rows), including their line break. Equal to `start` for a block without a header.
   */
  headerEnd: number;
  /**
   * Splits `[from, end)` of the block into atoms whose content is at most `maxLength` long,
   * each starting at a line or row when that line or row fits. `splitRows` lists the rows
   * that had to be cut because they alone are longer than `maxLength`.
   */
  splitBody(from: number, maxLength: number): { atoms: TextAtom[]; splitRows: Span[] };
  /** Overlap start test for later chunks of this block, which accepts line or row starts. */
  isOverlapStart: OverlapStartTest;
}

/** A run of atoms packed together, or a structured block, in text order. */
export type BlockItem = { atoms: TextAtom[] } | { block: StructuredBlock; rank: number };

/**
 * Packs items in order. Atoms and blocks that fit in `size` are packed together with
 * `packAtoms`, and a block never straddles a chunk boundary. A block longer than `size` is
 * chunked alone by `packOversizedBlock`, so no chunk mixes it with the text around it.
 */
export function packBlocks(
  text: string,
  items: BlockItem[],
  size: number,
  overlap: number,
  isOverlapStart: OverlapStartTest,
): ChunkSpan[] {
  const spans: ChunkSpan[] = [];
  let run: TextAtom[] = [];
  const flush = () => {
    if (run.length > 0) {
      appendAll(spans, toChunkSpans(packAtoms(text, run, size, overlap, isOverlapStart)));
      run = [];
    }
  };

  for (const item of items) {
    if ('atoms' in item) {
      appendAll(run, item.atoms);
      continue;
    }
    const { block, rank } = item;
    const contentEnd = trimmedEnd(text, block.start, block.end);
    if (contentEnd - block.start <= size) {
      run.push({ start: block.start, end: block.end, contentEnd, boundaryRank: rank, divisible: false });
      continue;
    }
    flush();
    appendAll(spans, packOversizedBlock(text, block, size, overlap));
  }
  flush();
  return spans;
}

/**
 * Splits a block longer than `size` on its own lines or rows. When the header lines, with the
 * whitespace up to the first body line, take at most half of `size`, every chunk after the
 * first gets them as `prefix` (trimmed, with one line break). The body is then packed to
 * `size` minus that header length, so that the header fits too. A longer header is not
 * repeated. Chunks that hold part of a row longer than the bound get `metadata.split_row = true`.
 */
export function packOversizedBlock(text: string, block: StructuredBlock, size: number, overlap: number): ChunkSpan[] {
  let bodyStart = block.headerEnd;
  while (bodyStart < block.end && /\s/.test(text[bodyStart])) {
    bodyStart += 1;
  }
  const headerLength = bodyStart - block.start;
  const hasBody = trimmedEnd(text, bodyStart, block.end) > bodyStart;
  const repeatHeader = block.headerEnd > block.start && hasBody && headerLength <= size / 2;

  if (!repeatHeader) {
    const { atoms, splitRows } = block.splitBody(block.start, size);
    const spans = toChunkSpans(packAtoms(text, atoms, size, overlap, block.isOverlapStart));
    return markSplitRows(spans, splitRows);
  }

  const bodySize = size - headerLength;
  const { atoms, splitRows } = block.splitBody(bodyStart, bodySize);
  const spans = toChunkSpans(packAtoms(text, atoms, bodySize, Math.min(overlap, bodySize - 1), block.isOverlapStart));
  const prefix = `${text.slice(block.start, block.headerEnd).trim()}\n`;
  spans.forEach((span, index) => {
    if (index === 0) {
      // The first chunk reaches back to include the header itself.
      span.start = block.start;
    } else {
      span.prefix = prefix;
    }
  });
  return markSplitRows(spans, splitRows);
}

function markSplitRows(spans: ChunkSpan[], splitRows: Span[]): ChunkSpan[] {
  if (splitRows.length === 0) {
    return spans;
  }
  // Both lists are in text order, and span ends increase, so one sweep finds the overlaps.
  let row = 0;
  for (const span of spans) {
    while (row < splitRows.length && splitRows[row][1] <= span.start) {
      row += 1;
    }
    if (row < splitRows.length && splitRows[row][0] < span.end) {
      span.metadata = { ...span.metadata, split_row: true };
    }
  }
  return spans;
}

/**
 * Returns an overlap test that accepts word starts outside the given blocks, so that the
 * overlap of a chunk never starts inside a code block or table that is kept whole.
 */
export function wordStartOutside(blocks: readonly { start: number; end: number }[]): OverlapStartTest {
  return (text, position) => {
    if (!(position > 0 && /\s/.test(text[position - 1]) && !/\s/.test(text[position]))) {
      return false;
    }
    let low = 0;
    let high = blocks.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (blocks[middle].end <= position) {
        low = middle + 1;
      } else if (blocks[middle].start > position) {
        high = middle - 1;
      } else {
        return position === blocks[middle].start;
      }
    }
    return true;
  };
}
