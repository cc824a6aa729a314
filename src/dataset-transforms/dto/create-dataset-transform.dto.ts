import { ApiProperty, ApiPropertyOptional, PartialType, PickType } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsOptional, IsUUID } from 'class-validator';
import { IsTitle } from 'src/common/validation';

export class CreateDatasetTransformDto {
  @IsTitle()
  title: string;

  @ApiProperty({ description: 'Dataset whose chunks are embedded' })
  @IsUUID()
  source_dataset_id: string;

  @ApiProperty({ type: [String], description: 'One embedded dataset is kept per embedder' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  @ArrayUnique()
  @IsUUID('all', { each: true })
  embedder_ids: string[];

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  is_enabled: boolean = true;
}

export class UpdateDatasetTransformDto extends PartialType(
  PickType(CreateDatasetTransformDto, ['title', 'embedder_ids', 'is_enabled'] as const),
) {}
