import { ContainerBudget, RATIO_GRACE_BYTES } from 'src/workers/collections/extraction/container-limits';

export interface ReadBounds {
  budget: ContainerBudget;
  /** Container file name, for error messages. */
  fileName: string;
  entryName: string;
  /**
   * Bytes the stream was decompressed from, for the ratio check, or undefined when the
   * stream is not compressed.
   */
  compressedSize?: number;
}

/**
 * Reads a decompressing stream into memory and counts its bytes against the shared budget as
 * they arrive, so a declared size that lies cannot make it read more. Stops with
 * `archive_too_large` when the budget runs out, and with `archive_ratio_exceeded` once the
 * output passes `RATIO_GRACE_BYTES` and the maximum ratio to `compressedSize`. Leaving the loop
 * early destroys the stream.
 */
export async function readBounded(stream: AsyncIterable<unknown>, bounds: ReadBounds): Promise<Buffer> {
  const { budget, fileName, entryName, compressedSize } = bounds;
  const maxRatioBytes =
    compressedSize === undefined ? Infinity : Math.max(RATIO_GRACE_BYTES, compressedSize * budget.limits.maxCompressionRatio);

  const chunks: Buffer[] = [];
  let total = 0;
  for await (const item of stream) {
    const chunk = item as Buffer;
    total += chunk.length;
    if (total > maxRatioBytes) {
      throw budget.ratioExceededError(fileName, entryName);
    }
    budget.addBytes(chunk.length, fileName);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
