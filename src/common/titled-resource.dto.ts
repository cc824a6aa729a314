import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsTagList, IsTitle } from 'src/common/validation';

/** Fields that collections and datasets share when they are created. */
export class TitledResourceDto {
  @IsTitle()
  title: string;

  @ApiPropertyOptional({ maxLength: 4096 })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  details?: string;

  @IsTagList()
  tags: string[] = [];

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  is_public: boolean = false;
}
