import { MigrationInterface, QueryRunner } from 'typeorm';

/** Adds what remote embedding providers need: endpoint, model, a sealed API key, truncation. */
export class EmbedderProviders1764800000003 implements MigrationInterface {
  name = 'EmbedderProviders1764800000003';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE embedders
        ADD COLUMN base_url text,
        ADD COLUMN model text,
        ADD COLUMN api_key_sealed text,
        ADD COLUMN truncate_strategy text NOT NULL DEFAULT 'end'
          CHECK (truncate_strategy IN ('end', 'start', 'none'));
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE embedders
        DROP COLUMN truncate_strategy,
        DROP COLUMN api_key_sealed,
        DROP COLUMN model,
        DROP COLUMN base_url;
    `);
  }
}
