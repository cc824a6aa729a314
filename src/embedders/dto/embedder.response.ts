import { ApiProperty } from '@nestjs/swagger';
import { EmbedderEntity, EmbedderProvider } from 'src/embedders/embedder.entity';

export class EmbedderResponse {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: EmbedderProvider }) provider: EmbedderProvider;
  @ApiProperty({ enum: ['lexical', 'dense'], description: 'lexical embedders match words, not meaning' })
  kind: 'lexical' | 'dense';
  @ApiProperty() dimensions: number;
  @ApiProperty() batch_size: number;
  @ApiProperty() max_input_tokens: number;
  @ApiProperty({ type: Object }) config: Record<string, unknown>;
  @ApiProperty() is_public: boolean;
  @ApiProperty({ nullable: true }) base_url: string | null;
  @ApiProperty({ nullable: true }) model: string | null;
  @ApiProperty({ description: 'Whether an API key is stored; the key itself is never returned' }) has_api_key: boolean;
  @ApiProperty({ enum: ['end', 'start', 'none'] }) truncate_strategy: string;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export function toEmbedderResponse(entity: EmbedderEntity): EmbedderResponse {
  return {
    id: entity.id,
    name: entity.name,
    provider: entity.provider,
    kind: entity.provider === EmbedderProvider.Hashing ? 'lexical' : 'dense',
    dimensions: entity.dimensions,
    batch_size: entity.batchSize,
    max_input_tokens: entity.maxInputTokens,
    config: entity.config,
    is_public: entity.isPublic,
    base_url: entity.baseUrl,
    model: entity.model,
    has_api_key: entity.apiKeySealed !== null,
    truncate_strategy: entity.truncateStrategy,
    created_at: entity.createdAt.toISOString(),
    updated_at: entity.updatedAt.toISOString(),
  };
}
