import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('collection_transforms')
export class CollectionTransformEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'owner_id' }) ownerId: string;
  @Column() title: string;
  @Column({ name: 'collection_id', type: 'uuid' }) collectionId: string;
  @Column({ name: 'dataset_id', type: 'uuid' }) datasetId: string;
  @Column({ name: 'is_enabled', default: true }) isEnabled: boolean;
  /** `{ chunking: ChunkingConfig }`, validated when the transform is saved. */
  @Column({ name: 'job_config', type: 'jsonb', default: () => "'{}'" }) jobConfig: Record<string, unknown>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
