import { ApiProperty, ApiPropertyOptional, PartialType, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUUID, Max, Min, ValidateNested } from 'class-validator';
import { IsTitle } from 'src/common/validation';

export class ChunkingConfigDto {
  @ApiPropertyOptional({
    enum: ['recursive_character', 'fixed_size', 'sentence'],
    default: 'recursive_character',
    description:
      'recursive_character: split on paragraphs, then lines, sentences, words and characters until chunks fit; ' +
      'fixed_size: windows of chunk_size characters; sentence: pack whole sentences',
  })
  @IsOptional()
  @IsIn(['recursive_character', 'fixed_size', 'sentence'])
  strategy?: 'recursive_character' | 'fixed_size' | 'sentence';

  @ApiPropertyOptional({ default: 1000, minimum: 1, maximum: 100000, description: 'Maximum chunk length in characters' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  chunk_size?: number;

  @ApiPropertyOptional({ default: 100, minimum: 0, description: 'Characters shared by consecutive chunks; below chunk_size' })
  @IsOptional()
  @IsInt()
  @Min(0)
  chunk_overlap?: number;

  @ApiPropertyOptional({ type: [String], description: 'recursive_character only: separators tried in order' })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  separators?: string[];
}

export class CollectionTransformJobConfigDto {
  @ApiPropertyOptional({ type: ChunkingConfigDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ChunkingConfigDto)
  chunking?: ChunkingConfigDto;
}

export class CreateCollectionTransformDto {
  @IsTitle()
  title: string;

  @ApiProperty()
  @IsUUID()
  collection_id: string;

  @ApiProperty({ description: 'Dataset that receives one item per file, with its chunks' })
  @IsUUID()
  dataset_id: string;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  is_enabled: boolean = true;

  @ApiPropertyOptional({ type: CollectionTransformJobConfigDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => CollectionTransformJobConfigDto)
  job_config: CollectionTransformJobConfigDto = {};
}

export class UpdateCollectionTransformDto extends PartialType(
  PickType(CreateCollectionTransformDto, ['title', 'is_enabled', 'job_config'] as const),
) {}
