import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lets one file produce several items (archive entries, email attachments): items are keyed
 * by (transform, file, entry path), and the ledger keeps each entry's outcome.
 */
export class ContainerEntries1764800000002 implements MigrationInterface {
  name = 'ContainerEntries1764800000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE dataset_items ADD COLUMN source_entry_path text NOT NULL DEFAULT '';
      DROP INDEX dataset_items_transform_file_unique;
      CREATE UNIQUE INDEX dataset_items_transform_file_entry_unique
        ON dataset_items (collection_transform_id, source_file_id, source_entry_path)
        WHERE collection_transform_id IS NOT NULL AND source_file_id IS NOT NULL;
      ALTER TABLE transform_processed_files ADD COLUMN entry_outcomes jsonb NOT NULL DEFAULT '[]';
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE transform_processed_files DROP COLUMN entry_outcomes;
      DROP INDEX dataset_items_transform_file_entry_unique;
      DELETE FROM dataset_items WHERE source_entry_path <> '';
      CREATE UNIQUE INDEX dataset_items_transform_file_unique
        ON dataset_items (collection_transform_id, source_file_id)
        WHERE collection_transform_id IS NOT NULL AND source_file_id IS NOT NULL;
      ALTER TABLE dataset_items DROP COLUMN source_entry_path;
    `);
  }
}
