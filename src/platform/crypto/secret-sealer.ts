import { Injectable, Logger } from '@nestjs/common';
import { InvalidInputError } from 'src/common/app-error';
import { SecurityConfig } from 'src/config/app-config';
import { SecretBox } from 'src/platform/crypto/secret-box';

/**
 * Seals and opens API keys under ENCRYPTION_MASTER_KEY. Without a key the application still
 * runs, but storing or using an API key fails with a message that explains how to set one.
 */
@Injectable()
export class SecretSealer {
  private readonly logger = new Logger(SecretSealer.name);
  private readonly box?: SecretBox;

  constructor(config: SecurityConfig) {
    if (config.encryptionMasterKey) {
      this.box = SecretBox.fromHex(config.encryptionMasterKey);
      this.logger.log('encryption service initialised; API keys are sealed with AES-256-GCM');
    } else {
      this.logger.warn(
        'ENCRYPTION_MASTER_KEY is not set: API keys of embedders cannot be stored. Generate one with `openssl rand -hex 32`.',
      );
    }
  }

  seal(secret: string): string {
    return this.requireBox().seal(secret);
  }

  open(sealed: string): string {
    return this.requireBox().open(sealed);
  }

  private requireBox(): SecretBox {
    if (!this.box) {
      throw new InvalidInputError(
        'encryption_key_missing',
        'API keys need ENCRYPTION_MASTER_KEY (64 hexadecimal characters, `openssl rand -hex 32`) on every process',
      );
    }
    return this.box;
  }
}
