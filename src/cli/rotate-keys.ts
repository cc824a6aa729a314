import { DataSource } from 'typeorm';
import { loadConfig } from 'src/config/app-config';
import { buildDataSourceOptions } from 'src/platform/database/data-source-options';
import { rotateSecrets, SecretBox } from 'src/platform/crypto/secret-box';

/**
 * `npm run rotate-keys`: re-seals every stored API key from ENCRYPTION_MASTER_KEY (the current
 * key) to NEW_ENCRYPTION_MASTER_KEY. Every key is re-sealed and verified in memory first, then
 * all rows are written in one transaction, so a failure leaves the database as it was. Deploy
 * the new key as ENCRYPTION_MASTER_KEY afterwards, and keep the old one until that is done.
 */
export async function rotateKeys(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const config = loadConfig(env);
  const oldBox = SecretBox.fromHex(config.security.encryptionMasterKey);
  const newKey = env.NEW_ENCRYPTION_MASTER_KEY;
  if (!newKey) throw new Error('NEW_ENCRYPTION_MASTER_KEY is missing: set it to the new key (64 hexadecimal characters)');
  const newBox = SecretBox.fromHex(newKey);

  const dataSource = new DataSource(buildDataSourceOptions(config.database));
  await dataSource.initialize();
  try {
    return await dataSource.transaction(async (manager) => {
      const rows: Array<{ id: string; api_key_sealed: string }> = await manager.query(
        'SELECT id, api_key_sealed FROM embedders WHERE api_key_sealed IS NOT NULL FOR UPDATE',
      );
      const rotated = rotateSecrets(rows.map((row) => ({ id: row.id, sealed: row.api_key_sealed })), oldBox, newBox);
      for (const row of rotated) {
        await manager.query('UPDATE embedders SET api_key_sealed = $2, updated_at = now() WHERE id = $1', [row.id, row.sealed]);
      }
      return rotated.length;
    });
  } finally {
    await dataSource.destroy();
  }
}

if (require.main === module) {
  rotateKeys().then(
    (count) => {
      console.log(`re-sealed ${count} API key(s); now set ENCRYPTION_MASTER_KEY to the new key on every process`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
