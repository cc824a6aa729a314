import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

// Limitation: a file has one stage even when several collection transforms process it, so the
// stage shows the latest transform's event. Each transform's own outcome is in its ledger.
/** Pipeline stage of a file; `failed` carries the reason in `stageReason`. */
export enum FileStage {
  Stored = 'stored',
  Extracting = 'extracting',
  Chunked = 'chunked',
  Embedding = 'embedding',
  Embedded = 'embedded',
  Failed = 'failed',
}

@Entity('collection_files')
export class CollectionFileEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'owner_id' }) ownerId: string;
  @Column({ name: 'collection_id', type: 'uuid' }) collectionId: string;
  @Column() name: string;
  @Column({ name: 'content_type' }) contentType: string;
  // bigint comes back from pg as a string; the transformer keeps the entity numeric.
  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } }) size: number;
  @Column() sha256: string;
  @Column({ name: 'blob_key' }) blobKey: string;
  /** Changes on every upload of new content under this name; jobs name the revision they process. */
  @Column({ type: 'uuid' }) revision: string;
  @Column({ type: 'text' }) stage: FileStage;
  @Column({ name: 'stage_reason', type: 'text', nullable: true }) stageReason: string | null;
  @Column({ name: 'stage_changed_at', type: 'timestamptz' }) stageChangedAt: Date;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
