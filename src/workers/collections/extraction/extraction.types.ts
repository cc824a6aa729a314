/** Character range `[start, end)` of `ExtractedDocument.text` with where-it-came-from metadata. */
export interface TextSegment {
  start: number;
  end: number;
  /** For example `{ page: 3 }` for a PDF page or `{ heading_path: ['Intro', 'Scope'] }` for a section. */
  metadata: Record<string, unknown>;
}

export interface ExtractedDocument {
  /** Normalised full text. Paragraphs are separated by one blank line, which the chunker splits on. */
  text: string;
  /** Canonical MIME type of the extractor that ran, without parameters. */
  contentType: string;
  /** Title from document metadata, or the first heading when the format has headings. */
  title?: string;
  /** Ranges of `text` in increasing order, such as one per PDF page. May be empty. */
  segments: TextSegment[];
  /** Document-level metadata such as `page_count`, `author` or `encoding`. */
  metadata: Record<string, unknown>;
  /**
   * Documents inside this one (archive entries, email attachments), each extracted on its own
   * and listed flat: a nested container's entries appear here with their full path. `text`
   * may be empty when the container has no text of its own.
   */
  children?: ExtractedChild[];
}

/** One document inside a container, with its own outcome. */
export interface ExtractedChild {
  /** Path inside the container, such as `reports/q3.pdf`; nested containers join paths with `/`. */
  path: string;
  /** The extracted document, when extraction succeeded. */
  document?: ExtractedDocument;
  /** Reason this child failed; the other children are unaffected. */
  error?: { code: string; message: string };
}

/** Bounds on what a container may unpack, so a hostile archive fails fast. */
export interface ContainerLimits {
  /** Sum of the uncompressed sizes of all entries, in bytes. */
  maxTotalBytes: number;
  maxEntries: number;
  /** Containers inside containers; the uploaded file is depth 0. */
  maxDepth: number;
  /** Largest accepted uncompressed-to-compressed size ratio of one entry. */
  maxCompressionRatio: number;
}

export interface ExtractOptions {
  /** Wall-clock limit for the whole extraction in milliseconds. Default 120000. */
  timeoutMs?: number;
  /** Maximum length of `text` in UTF-16 code units. Default 20000000. */
  maxTextChars?: number;
  /** Archive and attachment bounds; defaults apply to the fields left out. */
  containerLimits?: Partial<ContainerLimits>;
}

/** Text of one page or section before normalisation, with the metadata its segment will carry. */
export interface ExtractedPart {
  text: string;
  metadata: Record<string, unknown>;
}

/** Output of a format-specific extractor, which `assembleText` normalises and joins. */
export interface ExtractorResult {
  parts: ExtractedPart[];
  title?: string;
  metadata: Record<string, unknown>;
  /** Documents inside a container format, flat, as in `ExtractedDocument.children`. */
  children?: ExtractedChild[];
  /**
   * True to keep leading indentation and runs of spaces inside lines, because they carry
   * structure in formats such as Markdown (nested lists, indented code).
   */
  preserveSpacing?: boolean;
}
