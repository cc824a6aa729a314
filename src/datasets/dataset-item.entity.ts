import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('dataset_items')
export class DatasetItemEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'owner_id' }) ownerId: string;
  @Column({ name: 'dataset_id', type: 'uuid' }) datasetId: string;
  @Column() title: string;
  @Column({ type: 'jsonb', default: () => "'{}'" }) metadata: Record<string, unknown>;
  @Column({ name: 'collection_transform_id', type: 'uuid', nullable: true }) collectionTransformId: string | null;
  @Column({ name: 'source_file_id', type: 'uuid', nullable: true }) sourceFileId: string | null;
  @Column({ name: 'source_file_revision', type: 'uuid', nullable: true }) sourceFileRevision: string | null;
  /** Path of the archive entry or attachment inside the source file; empty for the file itself. */
  @Column({ name: 'source_entry_path', type: 'text', default: '' }) sourceEntryPath: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
