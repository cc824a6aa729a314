import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Creates the tables of the Postgres vector store. Each vector is stored as float32
 * little-endian bytes, scaled to unit length when written, so that search computes
 * cosine similarity as a dot product.
 */
export class VectorStore1764800000001 implements MigrationInterface {
  name = 'VectorStore1764800000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE vector_collections (
        name text PRIMARY KEY,
        dimensions integer NOT NULL CHECK (dimensions > 0),
        distance text NOT NULL DEFAULT 'cosine',
        created_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE vector_points (
        collection_name text NOT NULL REFERENCES vector_collections (name) ON DELETE CASCADE,
        id uuid NOT NULL,
        vector bytea NOT NULL,
        payload jsonb NOT NULL DEFAULT '{}',
        PRIMARY KEY (collection_name, id)
      );

      CREATE INDEX vector_points_payload_idx ON vector_points USING gin (payload jsonb_path_ops);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE IF EXISTS vector_points;
      DROP TABLE IF EXISTS vector_collections;
    `);
  }
}
