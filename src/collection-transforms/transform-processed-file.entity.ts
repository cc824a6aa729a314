import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export enum ProcessedFileStatus {
  Processing = 'processing',
  Completed = 'completed',
  Failed = 'failed',
}

export interface EntryOutcome {
  path: string;
  status: 'completed' | 'failed';
  chunk_count?: number;
  error_code?: string;
  error_message?: string;
}

/** Outcome of one collection transform on one file (the latest revision it saw). */
@Entity('transform_processed_files')
export class TransformProcessedFileEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'owner_id' }) ownerId: string;
  @Column({ name: 'collection_transform_id', type: 'uuid' }) collectionTransformId: string;
  @Column({ name: 'file_id', type: 'uuid' }) fileId: string;
  @Column({ name: 'file_revision', type: 'uuid' }) fileRevision: string;
  @Column({ type: 'text' }) status: ProcessedFileStatus;
  @Column({ name: 'error_code', type: 'text', nullable: true }) errorCode: string | null;
  @Column({ name: 'error_message', type: 'text', nullable: true }) errorMessage: string | null;
  @Column({ name: 'item_count', type: 'int', default: 0 }) itemCount: number;
  @Column({ name: 'chunk_count', type: 'int', default: 0 }) chunkCount: number;
  @Column({ type: 'int', default: 0 }) attempts: number;
  /** Outcome of each archive entry or attachment of the file, in container order. */
  @Column({ name: 'entry_outcomes', type: 'jsonb', default: () => "'[]'" }) entryOutcomes: EntryOutcome[];
  @Column({
    name: 'processing_duration_ms',
    type: 'bigint',
    nullable: true,
    transformer: { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) },
  })
  processingDurationMs: number | null;
  @Column({ name: 'processed_at', type: 'timestamptz', nullable: true }) processedAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
