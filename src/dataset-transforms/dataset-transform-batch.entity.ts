import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export enum BatchStatus {
  Pending = 'pending',
  Processing = 'processing',
  Success = 'success',
  Failed = 'failed',
}

/** A slice of chunks sent to one embedder for one embedded dataset; its chunks are in `embedded_chunks`. */
@Entity('dataset_transform_batches')
export class DatasetTransformBatchEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'owner_id' }) ownerId: string;
  @Column({ name: 'dataset_transform_id', type: 'uuid' }) datasetTransformId: string;
  @Column({ name: 'embedded_dataset_id', type: 'uuid' }) embeddedDatasetId: string;
  @Column({ name: 'embedder_id', type: 'uuid' }) embedderId: string;
  @Column({ type: 'text' }) status: BatchStatus;
  @Column({ name: 'chunk_count', type: 'int' }) chunkCount: number;
  @Column({ type: 'int', default: 0 }) attempts: number;
  @Column({ name: 'error_message', type: 'text', nullable: true }) errorMessage: string | null;
  @Column({ name: 'dispatched_at', type: 'timestamptz', nullable: true }) dispatchedAt: Date | null;
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true }) startedAt: Date | null;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt: Date | null;
  @Column({
    name: 'processing_duration_ms',
    type: 'bigint',
    nullable: true,
    transformer: { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) },
  })
  processingDurationMs: number | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
