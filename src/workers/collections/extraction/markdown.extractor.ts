import { ExtractedPart, ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import { decodeText } from 'src/workers/collections/extraction/text-decoding';

interface MarkdownHeading {
  /** First line of the heading: the `#` line, or the text line above a setext underline. */
  lineIndex: number;
  level: number;
  text: string;
}

const ATX_HEADING_START = /^ {0,3}(#{1,6})(?=[ \t]|$)/;
// Heading paths are labels; longer heading text is cut so that a pathological line cannot
// make heading clean-up slow or bloat every chunk's metadata.
const MAX_HEADING_CHARS = 200;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})/;
const LIST_ITEM = /^ {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)/;
const BLOCK_QUOTE = /^ {0,3}>/;

/**
 * Extracts Markdown as written, one part per section with its `heading_path`. Headings in
 * fenced code and YAML front matter are not headings, so both are skipped while scanning.
 */
export function extractMarkdown(data: Buffer, declaredCharset?: string): ExtractorResult {
  const { text, encoding } = decodeText(data, declaredCharset);
  const lines = text.split(/\r\n?|\n/);

  const frontMatter = findFrontMatter(lines);
  const headings = findHeadings(lines, frontMatter?.endLine ?? 0);
  const parts = splitIntoSections(lines, headings);

  const firstTopHeading = headings.find((heading) => heading.level === 1) ?? headings[0];
  const title = frontMatter?.title ?? firstTopHeading?.text;
  return { parts, title: title || undefined, metadata: { encoding }, preserveSpacing: true };
}

/** Finds YAML front matter (`---` on the first line up to a `---` or `...` line). */
function findFrontMatter(lines: string[]): { endLine: number; title?: string } | undefined {
  if (lines[0]?.trim() !== '---') {
    return undefined;
  }
  for (let index = 1; index < lines.length; index += 1) {
    const line = lines[index].trim();
    if (line === '---' || line === '...') {
      const titleLine = lines.slice(1, index).find((entry) => /^title\s*:/.test(entry));
      const title = titleLine
        ?.replace(/^title\s*:\s*/, '')
        .trim()
        .replace(/^(["'])(.*)\1$/, '$2');
      return { endLine: index + 1, title: title || undefined };
    }
  }
  return undefined;
}

function findHeadings(lines: string[], firstLine: number): MarkdownHeading[] {
  const headings: MarkdownHeading[] = [];
  let fence: { marker: string; length: number } | undefined;

  for (let index = firstLine; index < lines.length; index += 1) {
    const line = lines[index];

    if (fence) {
      const closing = line.match(/^ {0,3}(`{3,}|~{3,})[ \t]*$/);
      if (closing && closing[1][0] === fence.marker && closing[1].length >= fence.length) {
        fence = undefined;
      }
      continue;
    }
    const opening = line.match(FENCE_OPEN);
    if (opening) {
      fence = { marker: opening[1][0], length: opening[1].length };
      continue;
    }

    const atx = ATX_HEADING_START.exec(line);
    if (atx) {
      const content = stripClosingHashes(line.slice(atx[0].length));
      headings.push({ lineIndex: index, level: atx[1].length, text: plainHeadingText(content) });
      continue;
    }

    const setext = line.match(SETEXT_UNDERLINE);
    if (setext && index > firstLine && isSetextHeadingText(lines[index - 1], headings, index - 1)) {
      const level = setext[1][0] === '=' ? 1 : 2;
      headings.push({ lineIndex: index - 1, level, text: plainHeadingText(lines[index - 1]) });
    }
  }
  return headings;
}

/**
 * Limitation: only the single line above the underline counts as heading text, while
 * CommonMark also allows a multi-line paragraph there.
 */
function isSetextHeadingText(line: string, headings: MarkdownHeading[], lineIndex: number): boolean {
  const isAlreadyHeading = headings.length > 0 && headings[headings.length - 1].lineIndex === lineIndex;
  return (
    line.trim() !== '' &&
    !isAlreadyHeading &&
    !/^ {4,}|^\t/.test(line) &&
    !LIST_ITEM.test(line) &&
    !BLOCK_QUOTE.test(line) &&
    !FENCE_OPEN.test(line) &&
    !SETEXT_UNDERLINE.test(line)
  );
}

/**
 * Removes the optional closing sequence of an ATX heading (`## Title ##`). Written without a
 * regex because /[ \t]+#+[ \t]*$/ backtracks quadratically on long runs of spaces.
 */
function stripClosingHashes(content: string): string {
  const trimmed = content.trimEnd();
  let end = trimmed.length;
  while (end > 0 && trimmed[end - 1] === '#') end -= 1;
  if (end === trimmed.length) {
    return trimmed;
  }
  const isClosingSequence = end === 0 || trimmed[end - 1] === ' ' || trimmed[end - 1] === '\t';
  return isClosingSequence ? trimmed.slice(0, end) : trimmed;
}

/** Drops inline markup from heading text: code spans, emphasis markers and link targets. */
function plainHeadingText(raw: string): string {
  return raw
    .slice(0, MAX_HEADING_CHARS)
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*_]+/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function splitIntoSections(lines: string[], headings: MarkdownHeading[]): ExtractedPart[] {
  const parts: ExtractedPart[] = [];
  const firstHeadingLine = headings[0]?.lineIndex ?? lines.length;
  parts.push({ text: lines.slice(0, firstHeadingLine).join('\n'), metadata: {} });

  const path: { level: number; text: string }[] = [];
  headings.forEach((heading, position) => {
    while (path.length > 0 && path[path.length - 1].level >= heading.level) {
      path.pop();
    }
    path.push({ level: heading.level, text: heading.text });

    const endLine = headings[position + 1]?.lineIndex ?? lines.length;
    parts.push({
      text: lines.slice(heading.lineIndex, endLine).join('\n'),
      metadata: { heading_path: path.map((entry) => entry.text) },
    });
  });
  return parts;
}
