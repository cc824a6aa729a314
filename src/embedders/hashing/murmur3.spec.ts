import { murmurHash3 } from 'src/embedders/hashing/murmur3';

describe('murmurHash3', () => {
  // Published MurmurHash3_x86_32 test vectors, checked by many independent implementations.
  const vectors: Array<[string, Uint8Array, number, number]> = [
    ['empty, seed 0', Buffer.alloc(0), 0, 0],
    ['empty, seed 1', Buffer.alloc(0), 1, 0x514e28b7],
    ['empty, seed 0xffffffff', Buffer.alloc(0), 0xffffffff, 0x81f16f39],
    ['four zero bytes', Buffer.from([0, 0, 0, 0]), 0, 0x2362f9de],
    ['"a" (one-byte tail)', Buffer.from('a'), 0x9747b28c, 0x7fa09ea6],
    ['"abc" (three-byte tail)', Buffer.from('abc'), 0, 0xb3dd93fa],
    ['"aaaa" (one block)', Buffer.from('aaaa'), 0x9747b28c, 0x5a97808a],
    ['"Hello, world!"', Buffer.from('Hello, world!'), 0x9747b28c, 0x24884cba],
    ['pangram', Buffer.from('The quick brown fox jumps over the lazy dog'), 0x9747b28c, 0x2fa826cd],
    ['multi-byte UTF-8', Buffer.from('ππππππππ', 'utf8'), 0x9747b28c, 0xd58063c1],
  ];

  it.each(vectors)('matches the reference for %s', (_label, data, seed, expected) => {
    expect(murmurHash3(data, seed)).toBe(expected);
  });
});
