import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError, InvalidInputError } from 'src/common/app-error';

/** Prefix of every value sealed by `SecretBox`. The version names the format described below. */
export const SEALED_PREFIX = 'enc:v1:';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Encrypts and decrypts secrets such as provider API keys with AES-256-GCM under one
 * master key. A sealed value is `enc:v1:` followed by base64 of iv (12 bytes), ciphertext
 * and authentication tag (16 bytes). Each seal draws a random IV, so sealing the same
 * secret twice gives different values. Errors never contain the secret or the key.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
      throw new InvalidInputError(
        'invalid_encryption_master_key',
        `Invalid encryption master key: expected ${KEY_BYTES} bytes, got ${Buffer.isBuffer(key) ? key.length : typeof key}.`,
      );
    }
    this.key = Buffer.from(key);
  }

  /** Creates a box from `ENCRYPTION_MASTER_KEY`'s format: 64 hexadecimal characters. */
  static fromHex(hex: string | undefined): SecretBox {
    const value = typeof hex === 'string' ? hex.trim() : '';
    if (!/^[0-9a-fA-F]{64}$/.test(value)) {
      const found = typeof hex === 'string' ? `${value.length} characters` : 'no value';
      throw new InvalidInputError(
        'invalid_encryption_master_key',
        `ENCRYPTION_MASTER_KEY must be 64 hexadecimal characters (a 32-byte key), but it has ${found}` +
          `${value.length === 64 ? ' with a non-hexadecimal character' : ''}. Generate one with \`openssl rand -hex 32\`.`,
      );
    }
    return new SecretBox(Buffer.from(value, 'hex'));
  }

  /** Returns true when `value` has the sealed format's prefix, without checking that it opens. */
  static isSealed(value: string): boolean {
    return value.startsWith(SEALED_PREFIX);
  }

  seal(plaintext: string): string {
    if (typeof plaintext !== 'string') {
      throw new InvalidInputError('invalid_secret', `Secret to seal must be a string, got ${typeof plaintext}.`);
    }
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return SEALED_PREFIX + Buffer.concat([iv, ciphertext, tag]).toString('base64');
  }

  /**
   * Decrypts a value made by `seal`. Throws `AppError` with code `secret_malformed` when
   * the value is not in the sealed format, and `secret_open_failed` when the key is wrong
   * or the value was altered, because GCM cannot tell those two apart.
   */
  open(sealed: string): string {
    if (typeof sealed !== 'string' || !sealed.startsWith(SEALED_PREFIX)) {
      throw new AppError('internal', 'secret_malformed', `Sealed secret is malformed: expected a string starting with "${SEALED_PREFIX}".`);
    }
    const encoded = sealed.slice(SEALED_PREFIX.length);
    const bytes = Buffer.from(encoded, 'base64');
    // Node's base64 decoder skips invalid characters, so compare the re-encoded form to catch them.
    if (bytes.toString('base64') !== encoded || bytes.length < IV_BYTES + TAG_BYTES) {
      throw new AppError(
        'internal',
        'secret_malformed',
        `Sealed secret is malformed: expected "${SEALED_PREFIX}" and base64 of at least ${IV_BYTES + TAG_BYTES} bytes.`,
      );
    }

    const iv = bytes.subarray(0, IV_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const ciphertext = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new AppError(
        'internal',
        'secret_open_failed',
        'Failed to open sealed secret: it was sealed under a different ENCRYPTION_MASTER_KEY or has been altered.',
      );
    }
  }
}

/** A stored secret: the id of the row or field that owns it, and its sealed value. */
export interface SealedSecret {
  id: string;
  sealed: string;
}

/**
 * Re-seals every secret from `oldBox`'s key to `newBox`'s key, for rotating the master key.
 * Pure: it returns new rows and changes nothing. Each result is opened with `newBox` and
 * compared with the plaintext before returning, so a broken rotation throws before anything
 * is stored. Throws naming the row id, never the secret, when a value cannot be opened.
 */
export function rotateSecrets(rows: readonly SealedSecret[], oldBox: SecretBox, newBox: SecretBox): SealedSecret[] {
  return rows.map((row) => {
    let plaintext: string;
    try {
      plaintext = oldBox.open(row.sealed);
    } catch (error) {
      const code = error instanceof AppError ? error.code : 'secret_open_failed';
      throw new AppError('internal', code, `Failed to rotate secret ${row.id}: it does not open with the old key.`, { id: row.id }, { cause: error });
    }

    const resealed = newBox.seal(plaintext);
    if (newBox.open(resealed) !== plaintext) {
      throw new AppError('internal', 'secret_rotation_failed', `Failed to rotate secret ${row.id}: the re-sealed value does not open to the same secret.`, {
        id: row.id,
      });
    }
    return { id: row.id, sealed: resealed };
  });
}
