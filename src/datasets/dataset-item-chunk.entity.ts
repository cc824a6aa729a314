import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One chunk of an item's text: the unit that is embedded, searched and deleted. */
@Entity('dataset_item_chunks')
export class DatasetItemChunkEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'owner_id' }) ownerId: string;
  @Column({ name: 'dataset_id', type: 'uuid' }) datasetId: string;
  @Column({ name: 'item_id', type: 'uuid' }) itemId: string;
  @Column({ name: 'chunk_index', type: 'int' }) chunkIndex: number;
  @Column({ type: 'text' }) text: string;
  @Column({ name: 'char_start', type: 'int', nullable: true }) charStart: number | null;
  @Column({ name: 'char_end', type: 'int', nullable: true }) charEnd: number | null;
  @Column({ type: 'jsonb', default: () => "'{}'" }) metadata: Record<string, unknown>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
