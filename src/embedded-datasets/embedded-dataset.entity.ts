import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** The vectors of one dataset under one embedder: one vector-store collection. */
@Entity('embedded_datasets')
export class EmbeddedDatasetEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'owner_id' }) ownerId: string;
  @Column() title: string;
  @Column({ name: 'dataset_transform_id', type: 'uuid', nullable: true }) datasetTransformId: string | null;
  @Column({ name: 'source_dataset_id', type: 'uuid', nullable: true }) sourceDatasetId: string | null;
  @Column({ name: 'embedder_id', type: 'uuid', nullable: true }) embedderId: string | null;
  @Column({ type: 'int' }) dimensions: number;
  @Column({ name: 'collection_name' }) collectionName: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
