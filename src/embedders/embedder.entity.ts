import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export enum EmbedderProvider {
  Hashing = 'hashing',
}

@Entity('embedders')
export class EmbedderEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'owner_id' }) ownerId: string;
  @Column() name: string;
  @Column({ type: 'text' }) provider: EmbedderProvider;
  @Column({ type: 'jsonb', default: () => "'{}'" }) config: Record<string, unknown>;
  @Column({ type: 'int' }) dimensions: number;
  @Column({ name: 'batch_size', type: 'int' }) batchSize: number;
  @Column({ name: 'max_input_tokens', type: 'int' }) maxInputTokens: number;
  @Column({ name: 'is_public', default: false }) isPublic: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
