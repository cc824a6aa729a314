import { randomBytes } from 'node:crypto';
import { AppError } from 'src/common/app-error';
import { SEALED_PREFIX, SecretBox, rotateSecrets } from 'src/platform/crypto/secret-box';

const KEY_HEX = 'a'.repeat(64);
const OTHER_KEY_HEX = '0123456789abcdef'.repeat(4);

function thrown(action: () => unknown): AppError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected the action to throw');
}

/** Flips one bit of the decoded payload at `offset` and re-encodes it. */
function flipBit(sealed: string, offset: number): string {
  const bytes = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64');
  bytes[offset] ^= 0x01;
  return SEALED_PREFIX + bytes.toString('base64');
}

describe('SecretBox', () => {
  const box = SecretBox.fromHex(KEY_HEX);

  it('round-trips a secret', () => {
    for (const secret of ['sk-live-123', '', 'ключ 🔑 鍵', 'x'.repeat(10_000)]) {
      const sealed = box.seal(secret);

      expect(sealed.startsWith(SEALED_PREFIX)).toBe(true);
      expect(box.open(sealed)).toBe(secret);
    }
  });

  it('lays out iv, ciphertext and tag', () => {
    const sealed = box.seal('abcd');
    const bytes = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64');

    expect(bytes).toHaveLength(12 + 4 + 16);
    expect(sealed).not.toContain('abcd');
  });

  it('uses a random IV per seal', () => {
    expect(box.seal('same')).not.toBe(box.seal('same'));
  });

  it('rejects a wrong key without echoing the secret', () => {
    const sealed = box.seal('sk-secret-value');

    const error = thrown(() => SecretBox.fromHex(OTHER_KEY_HEX).open(sealed));

    expect(error.code).toBe('secret_open_failed');
    expect(error.message).toContain('ENCRYPTION_MASTER_KEY');
    expect(error.message).not.toContain('sk-secret-value');
  });

  it('rejects tampering in each part', () => {
    const sealed = box.seal('sk-secret-value');
    const tagOffset = 12 + 'sk-secret-value'.length;

    for (const offset of [0, 12, tagOffset]) {
      expect(thrown(() => box.open(flipBit(sealed, offset))).code).toBe('secret_open_failed');
    }
  });

  it('rejects malformed sealed values', () => {
    const shortPayload = SEALED_PREFIX + randomBytes(20).toString('base64');

    for (const value of ['plain-text', 'enc:v2:AAAA', shortPayload, `${box.seal('x')}!`]) {
      expect(thrown(() => box.open(value)).code).toBe('secret_malformed');
    }
  });

  it('rejects a malformed master key', () => {
    for (const hex of [undefined, '', 'abc', 'g'.repeat(64), 'a'.repeat(66)]) {
      const error = thrown(() => SecretBox.fromHex(hex));

      expect(error.code).toBe('invalid_encryption_master_key');
      expect(error.message).toContain('ENCRYPTION_MASTER_KEY');
      expect(error.message).toContain('64 hexadecimal characters');
    }
    expect(thrown(() => SecretBox.fromHex('g'.repeat(64))).message).not.toContain('gggg');
  });

  it('accepts upper case and surrounding whitespace', () => {
    const sealed = box.seal('value');

    expect(SecretBox.fromHex(` ${KEY_HEX.toUpperCase()}\n`).open(sealed)).toBe('value');
  });
});

describe('rotateSecrets', () => {
  const oldBox = SecretBox.fromHex(KEY_HEX);
  const newBox = SecretBox.fromHex(OTHER_KEY_HEX);

  it('re-seals every row under the new key', () => {
    const rows = [
      { id: 'embedder-1', sealed: oldBox.seal('sk-one') },
      { id: 'embedder-2', sealed: oldBox.seal('sk-two') },
    ];

    const rotated = rotateSecrets(rows, oldBox, newBox);

    expect(rotated.map((row) => row.id)).toEqual(['embedder-1', 'embedder-2']);
    expect(rotated.map((row) => newBox.open(row.sealed))).toEqual(['sk-one', 'sk-two']);
    expect(() => oldBox.open(rotated[0].sealed)).toThrow(AppError);
    expect(rows[0].sealed).not.toBe(rotated[0].sealed);
    expect(oldBox.open(rows[0].sealed)).toBe('sk-one');
  });

  it('fails naming the row that does not open', () => {
    const rows = [
      { id: 'embedder-1', sealed: oldBox.seal('sk-one') },
      { id: 'embedder-2', sealed: newBox.seal('sk-two') },
    ];

    const error = thrown(() => rotateSecrets(rows, oldBox, newBox));

    expect(error.code).toBe('secret_open_failed');
    expect(error.message).toContain('embedder-2');
    expect(error.message).not.toContain('sk-two');
  });
});
