const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/**
 * Computes MurmurHash3 (x86 32-bit variant) of raw bytes as an unsigned 32-bit integer.
 * The spec checks it against published test vectors of the algorithm.
 */
export function murmurHash3(data: Uint8Array, seed: number): number {
  let hash = seed >>> 0;
  const blockCount = data.length >> 2;

  for (let block = 0; block < blockCount; block += 1) {
    const offset = block * 4;
    let k = data[offset] | (data[offset + 1] << 8) | (data[offset + 2] << 16) | (data[offset + 3] << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    hash ^= k;
    hash = (hash << 13) | (hash >>> 19);
    hash = (Math.imul(hash, 5) + 0xe6546b64) | 0;
  }

  // The last 1 to 3 bytes are mixed like a partial block.
  const tailOffset = blockCount * 4;
  const tailLength = data.length & 3;
  if (tailLength > 0) {
    let k = 0;
    if (tailLength === 3) {
      k ^= data[tailOffset + 2] << 16;
    }
    if (tailLength >= 2) {
      k ^= data[tailOffset + 1] << 8;
    }
    k ^= data[tailOffset];
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    hash ^= k;
  }

  hash ^= data.length;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
