import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { InvalidInputError } from 'src/common/app-error';
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

  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: 1_000_000_000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000_000)
  offset: number = 0;
}

/** Paging parameters plus a case-insensitive title filter. */
export class SearchPageQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Case-insensitive substring of the title or name' })
  @IsOptional()
  @IsSearchText()
  search?: string;
}

/** Free text in a query string or body: trimmed, no NUL character (Postgres text cannot hold it). */
export function IsSearchText(maxLength = 256) {
  return applyDecorators(
    Transform(({ value }) => (typeof value === 'string' ? value.trim() : value)),
    IsString(),
    MaxLength(maxLength),
    Matches(/^[^\u0000]*$/, { message: '$property must not contain the NUL character' }),
  );
}

/**
 * Rejects an explicit null for fields that cannot be empty. Partial update DTOs mark every field
 * optional, and class-validator's IsOptional lets null through as well as undefined.
 */
export function rejectNullFields(dto: object, fields: string[]): void {
  const present = fields.filter((field) => (dto as Record<string, unknown>)[field] === null);
  if (present.length > 0) {
    throw new InvalidInputError('validation_failed', `${present.join(', ')} must not be null; leave the field out to keep its value`);
  }
}

export interface Page<T> {
  items: T[];
  total_count: number;
  limit: number;
  offset: number;
}
