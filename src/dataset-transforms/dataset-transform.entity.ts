import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('dataset_transforms')
export class DatasetTransformEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'owner_id' }) ownerId: string;
  @Column() title: string;
  @Column({ name: 'source_dataset_id', type: 'uuid' }) sourceDatasetId: string;
  @Column({ name: 'embedder_ids', type: 'uuid', array: true, default: () => "'{}'" }) embedderIds: string[];
  @Column({ name: 'is_enabled', default: true }) isEnabled: boolean;
  @Column({ name: 'job_config', type: 'jsonb', default: () => "'{}'" }) jobConfig: Record<string, unknown>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
