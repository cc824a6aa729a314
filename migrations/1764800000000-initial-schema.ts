import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Creates the metadata schema: collections and their files, datasets with one row per
 * chunk, embedders, collection and dataset transforms, embedded datasets, embedding
 * batches and the per-file processing ledger. Every owned row carries `owner_id`.
 */
export class InitialSchema1764800000000 implements MigrationInterface {
  name = 'InitialSchema1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE collections (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id text NOT NULL,
        title text NOT NULL,
        details text,
        tags text[] NOT NULL DEFAULT '{}',
        is_public boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX collections_owner_created_idx ON collections (owner_id, created_at DESC);

      CREATE TABLE collection_files (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id text NOT NULL,
        collection_id uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
        name text NOT NULL,
        content_type text NOT NULL,
        size bigint NOT NULL,
        sha256 text NOT NULL,
        blob_key text NOT NULL,
        revision uuid NOT NULL,
        stage text NOT NULL DEFAULT 'stored'
          CHECK (stage IN ('stored', 'extracting', 'chunked', 'embedding', 'embedded', 'failed')),
        stage_reason text,
        stage_changed_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT collection_files_name_unique UNIQUE (collection_id, name)
      );
      CREATE INDEX collection_files_sha_idx ON collection_files (collection_id, sha256);
      CREATE INDEX collection_files_stage_idx ON collection_files (stage, stage_changed_at);

      CREATE TABLE datasets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id text NOT NULL,
        title text NOT NULL,
        details text,
        tags text[] NOT NULL DEFAULT '{}',
        is_public boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX datasets_owner_created_idx ON datasets (owner_id, created_at DESC);

      CREATE TABLE embedders (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id text NOT NULL,
        name text NOT NULL,
        provider text NOT NULL,
        config jsonb NOT NULL DEFAULT '{}',
        dimensions integer NOT NULL CHECK (dimensions > 0),
        batch_size integer NOT NULL DEFAULT 64 CHECK (batch_size > 0),
        max_input_tokens integer NOT NULL DEFAULT 8191 CHECK (max_input_tokens > 0),
        is_public boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX embedders_owner_created_idx ON embedders (owner_id, created_at DESC);

      CREATE TABLE collection_transforms (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id text NOT NULL,
        title text NOT NULL,
        collection_id uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
        dataset_id uuid NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
        is_enabled boolean NOT NULL DEFAULT true,
        job_config jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX collection_transforms_owner_idx ON collection_transforms (owner_id, created_at DESC);
      CREATE INDEX collection_transforms_collection_idx ON collection_transforms (collection_id);
      CREATE INDEX collection_transforms_dataset_idx ON collection_transforms (dataset_id);

      CREATE TABLE dataset_items (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id text NOT NULL,
        dataset_id uuid NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
        title text NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        collection_transform_id uuid REFERENCES collection_transforms (id) ON DELETE CASCADE,
        source_file_id uuid REFERENCES collection_files (id) ON DELETE CASCADE,
        source_file_revision uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX dataset_items_dataset_idx ON dataset_items (dataset_id, created_at);
      -- One item per (transform, file): a redelivered or repeated job replaces it.
      CREATE UNIQUE INDEX dataset_items_transform_file_unique
        ON dataset_items (collection_transform_id, source_file_id)
        WHERE collection_transform_id IS NOT NULL AND source_file_id IS NOT NULL;
      CREATE INDEX dataset_items_source_file_idx ON dataset_items (source_file_id);

      CREATE TABLE dataset_item_chunks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id text NOT NULL,
        dataset_id uuid NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
        item_id uuid NOT NULL REFERENCES dataset_items (id) ON DELETE CASCADE,
        chunk_index integer NOT NULL CHECK (chunk_index >= 0),
        text text NOT NULL CHECK (length(btrim(text)) > 0),
        char_start integer,
        char_end integer,
        metadata jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT dataset_item_chunks_index_unique UNIQUE (item_id, chunk_index)
      );
      CREATE INDEX dataset_item_chunks_dataset_idx ON dataset_item_chunks (dataset_id, created_at, id);

      CREATE TABLE dataset_transforms (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id text NOT NULL,
        title text NOT NULL,
        source_dataset_id uuid NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
        embedder_ids uuid[] NOT NULL DEFAULT '{}',
        is_enabled boolean NOT NULL DEFAULT true,
        job_config jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX dataset_transforms_owner_idx ON dataset_transforms (owner_id, created_at DESC);
      CREATE INDEX dataset_transforms_source_idx ON dataset_transforms (source_dataset_id);

      CREATE TABLE embedded_datasets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id text NOT NULL,
        title text NOT NULL,
        dataset_transform_id uuid REFERENCES dataset_transforms (id) ON DELETE CASCADE,
        source_dataset_id uuid REFERENCES datasets (id) ON DELETE CASCADE,
        embedder_id uuid REFERENCES embedders (id) ON DELETE RESTRICT,
        dimensions integer NOT NULL CHECK (dimensions > 0),
        collection_name text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT embedded_datasets_transform_embedder_unique UNIQUE (dataset_transform_id, embedder_id)
      );
      CREATE INDEX embedded_datasets_owner_idx ON embedded_datasets (owner_id, created_at DESC);
      CREATE INDEX embedded_datasets_source_idx ON embedded_datasets (source_dataset_id);

      CREATE TABLE dataset_transform_batches (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id text NOT NULL,
        dataset_transform_id uuid NOT NULL REFERENCES dataset_transforms (id) ON DELETE CASCADE,
        embedded_dataset_id uuid NOT NULL REFERENCES embedded_datasets (id) ON DELETE CASCADE,
        embedder_id uuid NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'success', 'failed')),
        chunk_count integer NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 0,
        error_message text,
        dispatched_at timestamptz,
        started_at timestamptz,
        finished_at timestamptz,
        processing_duration_ms bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX dataset_transform_batches_transform_idx ON dataset_transform_batches (dataset_transform_id, status);
      CREATE INDEX dataset_transform_batches_active_idx ON dataset_transform_batches (status, updated_at)
        WHERE status IN ('pending', 'processing');

      -- Which chunk went into which batch of an embedded dataset, and when its vector was stored.
      CREATE TABLE embedded_chunks (
        embedded_dataset_id uuid NOT NULL REFERENCES embedded_datasets (id) ON DELETE CASCADE,
        chunk_id uuid NOT NULL REFERENCES dataset_item_chunks (id) ON DELETE CASCADE,
        batch_id uuid NOT NULL REFERENCES dataset_transform_batches (id) ON DELETE CASCADE,
        embedded_at timestamptz,
        PRIMARY KEY (embedded_dataset_id, chunk_id)
      );
      CREATE INDEX embedded_chunks_batch_idx ON embedded_chunks (batch_id);
      CREATE INDEX embedded_chunks_chunk_idx ON embedded_chunks (chunk_id);

      CREATE TABLE transform_processed_files (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id text NOT NULL,
        collection_transform_id uuid NOT NULL REFERENCES collection_transforms (id) ON DELETE CASCADE,
        file_id uuid NOT NULL REFERENCES collection_files (id) ON DELETE CASCADE,
        file_revision uuid NOT NULL,
        status text NOT NULL CHECK (status IN ('processing', 'completed', 'failed')),
        error_code text,
        error_message text,
        item_count integer NOT NULL DEFAULT 0,
        chunk_count integer NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 0,
        processing_duration_ms bigint,
        processed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT transform_processed_files_unique UNIQUE (collection_transform_id, file_id)
      );
      CREATE INDEX transform_processed_files_status_idx ON transform_processed_files (collection_transform_id, status);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE IF EXISTS transform_processed_files;
      DROP TABLE IF EXISTS embedded_chunks;
      DROP TABLE IF EXISTS dataset_transform_batches;
      DROP TABLE IF EXISTS embedded_datasets;
      DROP TABLE IF EXISTS dataset_transforms;
      DROP TABLE IF EXISTS dataset_item_chunks;
      DROP TABLE IF EXISTS dataset_items;
      DROP TABLE IF EXISTS collection_transforms;
      DROP TABLE IF EXISTS embedders;
      DROP TABLE IF EXISTS datasets;
      DROP TABLE IF EXISTS collection_files;
      DROP TABLE IF EXISTS collections;
    `);
  }
}
