import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsEnum, IsInt, IsObject, IsOptional, Max, Min } from 'class-validator';
import { IsTitle } from 'src/common/validation';
import { EmbedderProvider } from 'src/embedders/embedder.entity';

export class CreateEmbedderDto {
  @IsTitle()
  name: string;

  @ApiProperty({
    enum: EmbedderProvider,
    description: 'hashing: built-in lexical embedding (feature hashing of words and character n-grams), no model needed',
  })
  @IsEnum(EmbedderProvider, { message: `provider must be one of: ${Object.values(EmbedderProvider).join(', ')}` })
  provider: EmbedderProvider;

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
