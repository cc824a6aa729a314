import { AppError } from 'src/common/app-error';
import { safeCut, Span } from 'src/workers/collections/chunking/chunk-packing';
import { splitSentences, TextAtom, trimmedEnd } from 'src/workers/collections/chunking/text-atoms';

/** Embeds texts, one vector per text in input order, as `Embedder.embed` with purpose `document` does. */
export type EmbedTexts = (texts: string[]) => Promise<number[][]>;

export interface SemanticChunkingSettings {
  size: number;
  overlap: number;
  separators: readonly string[];
  similarityThreshold: number;
  embed: EmbedTexts;
  /** Sentences per `embed` call. */
  batchSize: number;
}

/**
 * Splits text into sentences (longer ones into pieces of at most `size` characters), embeds
 * them, and groups consecutive sentences into chunks. A sentence starts a new chunk when its
 * cosine similarity to the mean embedding of the sentences added to the current chunk is
 * below `similarityThreshold`, or when it would make the chunk longer than `size` characters.
 * A sentence with a zero vector (no words) joins the current chunk.
 * A new chunk first repeats the trailing sentences of the previous one that fit in `overlap`
 * characters. Those do not count toward its mean embedding.
 */
export async function semanticSpans(text: string, settings: SemanticChunkingSettings): Promise<Span[]> {
  const { size, overlap, similarityThreshold } = settings;
  const atoms = splitSentences(text, settings.separators, size).flatMap((atom) => cutDivisible(text, atom, size));
  const vectors = await embedAtoms(text, atoms, settings);

  const spans: Span[] = [];
  let first = 0;
  let sum = [...vectors[0]];
  for (let index = 1; index < atoms.length; index += 1) {
    const fits = atoms[index].contentEnd - atoms[first].start <= size;
    if (fits && cosineSimilarity(vectors[index], sum) >= similarityThreshold) {
      addInPlace(sum, vectors[index]);
      continue;
    }

    spans.push([atoms[first].start, atoms[index - 1].end]);
    first = overlapStart(atoms, first, index, size, overlap);
    sum = [...vectors[index]];
  }
  spans.push([atoms[first].start, atoms[atoms.length - 1].end]);
  return spans;
}

/** Returns the first atom of the chunk that starts with atom `next`, reaching back at most `overlap` characters. */
function overlapStart(atoms: TextAtom[], previousFirst: number, next: number, size: number, overlap: number): number {
  const previousEnd = atoms[next - 1].contentEnd;
  let start = next;
  while (
    start - 1 > previousFirst &&
    previousEnd - atoms[start - 1].start <= overlap &&
    atoms[next].contentEnd - atoms[start - 1].start <= size
  ) {
    start -= 1;
  }
  return start;
}

/** Cuts an atom that no separator could split into pieces of at most `size` characters. */
function cutDivisible(text: string, atom: TextAtom, size: number): TextAtom[] {
  if (!atom.divisible) {
    return [atom];
  }
  const pieces: TextAtom[] = [];
  let start = atom.start;
  while (start < atom.contentEnd) {
    const end = safeCut(text, Math.min(start + size, atom.contentEnd), start + 1);
    pieces.push({ start, end, contentEnd: end, boundaryRank: atom.boundaryRank, divisible: false });
    start = end;
  }
  pieces[pieces.length - 1].end = atom.end;
  pieces[pieces.length - 1].contentEnd = trimmedEnd(text, pieces[pieces.length - 1].start, atom.end);
  return pieces;
}

/** Embeds the content of every atom with text in it, `batchSize` per call; empty atoms get an empty vector. */
async function embedAtoms(text: string, atoms: TextAtom[], settings: SemanticChunkingSettings): Promise<number[][]> {
  const vectors: number[][] = atoms.map(() => []);
  const pending = atoms.map((atom, index) => ({ index, content: text.slice(atom.start, atom.contentEnd).trim() })).filter((entry) => entry.content !== '');

  let dimensions: number | undefined;
  for (let offset = 0; offset < pending.length; offset += settings.batchSize) {
    const batch = pending.slice(offset, offset + settings.batchSize);
    const result = await settings.embed(batch.map((entry) => entry.content));
    if (!Array.isArray(result) || result.length !== batch.length) {
      throw invalidEmbedderOutput(`returned ${Array.isArray(result) ? result.length : typeof result} vectors for ${batch.length} sentences`);
    }
    result.forEach((vector, position) => {
      dimensions ??= Array.isArray(vector) ? vector.length : undefined;
      if (!Array.isArray(vector) || vector.length !== dimensions || !vector.every(Number.isFinite)) {
        throw invalidEmbedderOutput(`returned an invalid vector for sentence ${offset + position}: expected ${dimensions ?? 'an array of'} finite numbers`);
      }
      vectors[batch[position].index] = vector;
    });
  }
  return vectors;
}

function invalidEmbedderOutput(problem: string): AppError {
  return new AppError('internal', 'invalid_embedder_output', `The embedder for semantic chunking ${problem}.`);
}

/** Cosine similarity; 1 when either vector is empty or zero, so that such sentences never split a chunk. */
function cosineSimilarity(vector: number[], sum: number[]): number {
  if (vector.length === 0 || sum.length === 0) {
    return 1;
  }
  let dot = 0;
  let vectorNorm = 0;
  let sumNorm = 0;
  for (let index = 0; index < vector.length; index += 1) {
    dot += vector[index] * sum[index];
    vectorNorm += vector[index] * vector[index];
    sumNorm += sum[index] * sum[index];
  }
  if (vectorNorm === 0 || sumNorm === 0) {
    return 1;
  }
  return dot / Math.sqrt(vectorNorm * sumNorm);
}

function addInPlace(sum: number[], vector: number[]): void {
  if (sum.length === 0) {
    sum.push(...vector);
    return;
  }
  for (let index = 0; index < vector.length; index += 1) {
    sum[index] += vector[index];
  }
}
