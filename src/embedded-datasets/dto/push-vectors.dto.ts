import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsInt, IsNumber, IsObject, IsOptional, IsUUID, Max, Min, ValidateNested } from 'class-validator';
import { IsTitle } from 'src/common/validation';

export class CreateStandaloneEmbeddedDatasetDto {
  @IsTitle()
  title: string;

  @ApiProperty({ minimum: 1, maximum: 65536, description: 'Length of every vector pushed to it' })
  @IsInt()
  @Min(1)
  @Max(65536)
  dimensions: number;
}

export class PushedPointDto {
  @ApiProperty({ description: 'UUID of the point; a point with the same id is replaced' })
  @IsUUID()
  id: string;

  @ApiProperty({ type: [Number] })
  @IsArray()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  vector: number[];

  @ApiPropertyOptional({ type: Object })
  @IsOptional()
  @IsObject()
  payload?: Record<string, unknown>;
}

export class PushVectorsDto {
  @ApiProperty({ type: [PushedPointDto], minItems: 1, maxItems: 1000 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => PushedPointDto)
  points: PushedPointDto[];
}
