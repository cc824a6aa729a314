import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export enum EmbedderProvider {
  Hashing = 'hashing',
  Internal = 'internal',
  OpenAi = 'openai',
  Cohere = 'cohere',
}

export type TruncateStrategy = 'end' | 'start' | 'none';

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
  @Column({ name: 'base_url', type: 'text', nullable: true }) baseUrl: string | null;
  @Column({ type: 'text', nullable: true }) model: string | null;
  /** API key sealed with AES-256-GCM under ENCRYPTION_MASTER_KEY; never returned by the API. */
  @Column({ name: 'api_key_sealed', type: 'text', nullable: true }) apiKeySealed: string | null;
  /** Handling of an input longer than `maxInputTokens`: keep its start (`end`), keep its end (`start`), or fail (`none`). */
  @Column({ name: 'truncate_strategy', type: 'text', default: 'end' }) truncateStrategy: TruncateStrategy;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
