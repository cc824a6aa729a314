import { ChunkSpan, isLineStart } from 'src/workers/collections/chunking/chunk-packing';
import { splitCode } from 'src/workers/collections/chunking/code-chunking';
import { CODE_LANGUAGES, CodeLanguage } from 'src/workers/collections/chunking/chunking-config';
import { BlockItem, packBlocks, StructuredBlock, wordStartOutside } from 'src/workers/collections/chunking/structured-blocks';
import { findMarkdownTableAt, splitLines, tableBlock, TextLine } from 'src/workers/collections/chunking/table-blocks';
import { appendAll, splitParagraphs, splitRecursively } from 'src/workers/collections/chunking/text-atoms';

/** Part of a Markdown text. Blocks tile the text in order. */
interface MarkdownBlock {
  kind: 'text' | 'heading' | 'code' | 'table';
  start: number;
  end: number;
  /** Headings in force from this block on, outermost first. */
  headingPath: string[];
  structured?: StructuredBlock;
}

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)/;
const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;

// Split-point ranks: heading starts are the strongest, then block and paragraph starts,
// sentences, and cuts inside a sentence.
const HEADING_RANK = 0;
const BLOCK_RANK = 1;

// Fence info strings that are aliases of a `code_aware` language name.
const LANGUAGE_ALIASES: Record<string, CodeLanguage> = {
  js: 'javascript',
  jsx: 'javascript',
  ts: 'typescript',
  tsx: 'typescript',
  py: 'python',
  rb: 'ruby',
  sh: 'shell',
  bash: 'shell',
  zsh: 'shell',
  'c++': 'cpp',
  cs: 'csharp',
  kt: 'kotlin',
  rs: 'rust',
};

export interface MarkdownChunking {
  spans: ChunkSpan[];
  /** Returns `{ heading_path }` for a chunk starting at `start`, or `{}` before the first heading. */
  metadataAt(start: number): Record<string, unknown>;
}

/**
 * Chunks Markdown without splitting a fenced code block or a GFM table that fits in `size`.
 * A longer code block is split at top-level declarations and lines (see `splitCode`), a
 * longer table at rows, and each later chunk of the block gets the opening fence line or the
 * table header as `prefix` (see `packOversizedBlock`). The closing fence is not repeated.
 * With `splitOnHeadings`, every ATX or setext heading starts a new chunk. Other text is packed
 * by paragraphs, then sentences, then `separators`.
 */
export function chunkMarkdown(
  text: string,
  size: number,
  overlap: number,
  separators: readonly string[],
  splitOnHeadings: boolean,
): MarkdownChunking {
  const blocks = parseMarkdown(text);
  const structured = blocks.filter((block) => block.structured !== undefined);
  const isOverlapStart = wordStartOutside(structured);

  const sections: MarkdownBlock[][] = [];
  for (const block of blocks) {
    if (sections.length === 0 || (splitOnHeadings && block.kind === 'heading')) {
      sections.push([]);
    }
    sections[sections.length - 1].push(block);
  }

  const spans: ChunkSpan[] = [];
  for (const section of sections) {
    const items = section.map((block) => toItem(text, block, size, separators));
    appendAll(spans, packBlocks(text, items, size, overlap, isOverlapStart));
  }

  const headingStarts = blocks.map((block) => block.start);
  return {
    spans,
    metadataAt(start) {
      const index = lastAtOrBefore(headingStarts, start);
      const path = index >= 0 ? blocks[index].headingPath : [];
      return path.length > 0 ? { heading_path: path } : {};
    },
  };
}

function toItem(text: string, block: MarkdownBlock, size: number, separators: readonly string[]): BlockItem {
  if (block.structured) {
    return { block: block.structured, rank: BLOCK_RANK };
  }
  if (block.kind === 'heading') {
    const atoms = splitRecursively(text, block.start, block.end, separators, size, BLOCK_RANK);
    atoms[0].boundaryRank = HEADING_RANK;
    return { atoms };
  }
  return { atoms: splitParagraphs(text, separators, size, block.start, block.end, BLOCK_RANK) };
}

/** Splits Markdown into text, heading, fenced code and table blocks, tracking heading paths. */
function parseMarkdown(text: string): MarkdownBlock[] {
  const lines = splitLines(text);
  const blocks: MarkdownBlock[] = [];
  const headingStack: { level: number; title: string }[] = [];
  let headingPath: string[] = [];

  const addBlock = (kind: MarkdownBlock['kind'], start: number, end: number, structured?: StructuredBlock) => {
    const previous = blocks[blocks.length - 1];
    if (kind === 'text' && previous?.kind === 'text') {
      previous.end = end;
      return;
    }
    blocks.push({ kind, start, end, headingPath, structured });
  };
  const enterHeading = (level: number, title: string) => {
    while (headingStack.length > 0 && headingStack[headingStack.length - 1].level >= level) {
      headingStack.pop();
    }
    headingStack.push({ level, title });
    headingPath = headingStack.map((entry) => entry.title);
  };

  let index = 0;
  while (index < lines.length) {
    const line = lines[index];

    const fence = FENCE_OPEN.exec(line.text);
    if (fence) {
      const last = findFenceEnd(lines, index, fence[1]);
      const block = codeBlock(text, line, lines[last], fence[2]);
      addBlock('code', line.start, lines[last].next, block);
      index = last + 1;
      continue;
    }

    const heading = ATX_HEADING.exec(line.text);
    if (heading) {
      enterHeading(heading[1].length, (heading[2] ?? '').trim());
      addBlock('heading', line.start, line.next);
      index += 1;
      continue;
    }

    const underline = lines[index + 1] && SETEXT_UNDERLINE.exec(lines[index + 1].text);
    const startsParagraph = index === 0 || lines[index - 1].text.trim() === '';
    if (underline && startsParagraph && line.text.trim() !== '' && !line.text.includes('|')) {
      enterHeading(underline[1].startsWith('=') ? 1 : 2, line.text.trim());
      addBlock('heading', line.start, lines[index + 1].next);
      index += 2;
      continue;
    }

    const table = findMarkdownTableAt(lines, index);
    if (table) {
      addBlock('table', table.table.start, table.table.end, tableBlock(text, table.table));
      index = table.nextIndex;
      continue;
    }

    addBlock('text', line.start, line.next);
    index += 1;
  }
  return blocks;
}

/** Returns the index of the closing fence line, or of the last line when the fence is never closed. */
function findFenceEnd(lines: TextLine[], openIndex: number, marker: string): number {
  const closing = new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}[ \\t]*$`);
  for (let index = openIndex + 1; index < lines.length; index += 1) {
    if (closing.test(lines[index].text)) {
      return index;
    }
  }
  return lines.length - 1;
}

function codeBlock(text: string, open: TextLine, close: TextLine, info: string): StructuredBlock {
  const name = info.toLowerCase();
  const language = LANGUAGE_ALIASES[name] ?? (CODE_LANGUAGES.includes(name as CodeLanguage) ? (name as CodeLanguage) : undefined);
  const end = close.next;
  return {
    start: open.start,
    end,
    headerEnd: open.next,
    isOverlapStart: isLineStart,
    splitBody: (from, maxLength) => ({ atoms: splitCode(text, from, end, maxLength, language), splitRows: [] }),
  };
}

function lastAtOrBefore(values: number[], target: number): number {
  let low = 0;
  let high = values.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (values[middle] <= target) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}
