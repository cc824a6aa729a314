import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsEnum, IsIn, IsInt, IsObject, IsOptional, IsString, IsUrl, Max, MaxLength, Min } from 'class-validator';
import { IsTitle } from 'src/common/validation';
import { EmbedderProvider, TruncateStrategy } from 'src/embedders/embedder.entity';

export class CreateEmbedderDto {
  @IsTitle()
  name: string;

  @ApiProperty({
    enum: EmbedderProvider,
    description:
      'hashing: built-in lexical embedding (feature hashing of words and character n-grams), no model needed; ' +
      'internal: the inference role; openai: the OpenAI embeddings API or a server that speaks it; cohere: Cohere embed v2',
  })
  @IsEnum(EmbedderProvider, { message: `provider must be one of: ${Object.values(EmbedderProvider).join(', ')}` })
  provider: EmbedderProvider;

  @ApiPropertyOptional({ description: 'Provider URL without the endpoint, e.g. https://api.openai.com/v1; required for openai and cohere' })
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  base_url?: string;

  @ApiPropertyOptional({ description: 'Model name; required for every provider except hashing', example: 'text-embedding-3-small' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  model?: string;

  @ApiPropertyOptional({ description: 'Stored sealed with AES-256-GCM and never returned', writeOnly: true })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  api_key?: string;

  @ApiPropertyOptional({
    enum: ['end', 'start', 'none'],
    default: 'end',
    description: 'Inputs longer than max_input_tokens: cut the end, cut the start, or fail the batch (none)',
  })
  @IsOptional()
  @IsIn(['end', 'start', 'none'])
  truncate_strategy: TruncateStrategy = 'end';

  @ApiPropertyOptional({ default: 384, minimum: 8, maximum: 8192 })
  @IsOptional()
  @IsInt()
  @Min(8)
  @Max(8192)
  dimensions: number = 384;

  @ApiPropertyOptional({ default: 64, minimum: 1, maximum: 2048, description: 'Chunks embedded per job' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(2048)
  batch_size: number = 64;

  @ApiPropertyOptional({ default: 8191, minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  max_input_tokens: number = 8191;

  @ApiPropertyOptional({ type: Object, default: {} })
  @IsOptional()
  @IsObject()
  config: Record<string, unknown> = {};

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  is_public: boolean = false;
}
