import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

/** Titles of collections, datasets, transforms and embedders: trimmed, 1-256 characters, common punctuation only. */
export function IsTitle() {
  return applyDecorators(
    ApiProperty({ example: 'Quarterly reports', maxLength: 256 }),
    Transform(({ value }) => (typeof value === 'string' ? value.trim() : value)),
    IsString(),
    IsNotEmpty(),
    MaxLength(256),
    Matches(/^[\p{L}\p{N}\s\-_.,!?'"()[\]]+$/u, {
      message: 'title may contain only letters, digits, spaces and - _ . , ! ? \' " ( ) [ ]',
    }),
  );
}

export function IsTagList() {
  return applyDecorators(
    ApiPropertyOptional({ type: [String], maxItems: 20, example: ['finance'] }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(20),
    MaxLength(64, { each: true }),
    Matches(/^[\p{L}\p{N}\-_ ]+$/u, { each: true, message: 'each tag may contain only letters, digits, "-", "_" and spaces' }),
  );
}

/** Paging parameters shared by list endpoints. */
export class PageQuery {
  @ApiPropertyOptional({ default: 20, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit: number = 20;

  @ApiPropertyOptional({ default: 0, minimum: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset: number = 0;
}

export interface Page<T> {
  items: T[];
  total_count: number;
  limit: number;
  offset: number;
}
