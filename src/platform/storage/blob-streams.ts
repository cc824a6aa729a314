import { createHash, Hash } from 'node:crypto';
import { Readable, Transform, TransformCallback } from 'node:stream';
import { InvalidInputError } from 'src/common/app-error';

export function blobTooLargeError(key: string, maxBytes: number, size?: number): InvalidInputError {
  const sizeText = size === undefined ? '' : ` (${size} bytes)`;
  return new InvalidInputError(
    'blob_too_large',
    `Blob "${key}"${sizeText} is larger than the limit of ${maxBytes} bytes.`,
    size === undefined ? { key, maxBytes } : { key, maxBytes, size },
  );
}

/**
 * Pass-through stream that counts bytes and computes SHA-256 while a blob is written.
 * It fails with `blob_too_large` as soon as the count exceeds `maxBytes`, before the
 * offending chunk reaches the destination, and records that in `limitExceeded` so a
 * caller can recognise the cause even when a downstream library replaces the error.
 */
export class BlobDigestTransform extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private byteCount = 0;
  private sha256Hex: string | null = null;
  limitExceeded = false;

  constructor(
    private readonly key: string,
    private readonly maxBytes?: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.byteCount += chunk.length;
    if (this.maxBytes !== undefined && this.byteCount > this.maxBytes) {
      this.limitExceeded = true;
      callback(blobTooLargeError(this.key, this.maxBytes));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.sha256Hex = this.hash.digest('hex');
    callback();
  }

  /** Returns the size and hash. Valid only after the stream has ended. */
  digest(): { size: number; sha256: string } {
    if (this.sha256Hex === null) {
      throw new Error(`Digest of blob "${this.key}" was read before its stream ended`);
    }
    return { size: this.byteCount, sha256: this.sha256Hex };
  }
}

/**
 * Reads `stream` into one Buffer. Throws `blob_too_large` and destroys the stream as
 * soon as more than `maxBytes` bytes have arrived, so an oversized blob is never held
 * in memory whole.
 */
export async function readBlobToBuffer(stream: Readable, key: string, maxBytes?: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    total += buffer.length;
    if (maxBytes !== undefined && total > maxBytes) {
      stream.destroy();
      throw blobTooLargeError(key, maxBytes);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total);
}

/** Wraps a Buffer body in a stream so both body types share one write path. */
export function toReadable(body: Readable | Buffer): Readable {
  return Buffer.isBuffer(body) ? Readable.from([body]) : body;
}
