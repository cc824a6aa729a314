import { ApiProperty, ApiPropertyOptional, PartialType, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsString, IsUUID, Max, Min, ValidateNested } from 'class-validator';
import { IsTitle } from 'src/common/validation';
import {
  CHUNKING_STRATEGIES,
  ChunkingStrategy,
  CODE_LANGUAGES,
  CodeLanguage,
  TOKEN_ENCODINGS,
  TokenEncoding,
} from 'src/workers/collections/chunking/chunking-config';

/**
 * Strategy-specific chunking options. Each strategy accepts only its own keys. The service
 * rejects the others with an error that names `options.<key>`.
 */
export class ChunkingOptionsDto {
  @ApiPropertyOptional({
    default: true,
    description: 'markdown_aware only: start a new chunk at every heading, so that no chunk spans two sections',
  })
  @IsOptional()
  @IsBoolean()
  split_on_headings?: boolean;

  @ApiPropertyOptional({
    enum: [...CODE_LANGUAGES],
    description:
      'code_aware only: comment and string syntax to skip while counting brackets. ' +
      'Without it, // and /* */ comments, # comments after whitespace, and quoted and backtick strings are recognised',
  })
  @IsOptional()
  @IsIn([...CODE_LANGUAGES])
  language?: CodeLanguage;

  @ApiPropertyOptional({
    enum: [...TOKEN_ENCODINGS],
    default: 'cl100k_base',
    description: 'token_based only: tokenizer (js-tiktoken) that counts chunk_size and chunk_overlap',
  })
  @IsOptional()
  @IsIn([...TOKEN_ENCODINGS])
  encoding?: TokenEncoding;

  @ApiPropertyOptional({
    default: 0.5,
    minimum: -1,
    maximum: 1,
    description:
      'semantic only: a sentence whose cosine similarity to the mean embedding of the current chunk is below this value starts a new chunk',
  })
  @IsOptional()
  @IsNumber()
  @Min(-1)
  @Max(1)
  similarity_threshold?: number;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'semantic only, and required there: the embedder that embeds each sentence',
  })
  @IsOptional()
  @IsUUID()
  embedder_id?: string;
}

export class ChunkingConfigDto {
  @ApiPropertyOptional({
    enum: [...CHUNKING_STRATEGIES],
    default: 'recursive_character',
    description: [
      'recursive_character: split on paragraphs, then lines, sentences, words and characters until chunks fit.',
      'fixed_size: windows of chunk_size characters, chunk_size minus chunk_overlap apart.',
      'sentence: pack whole sentences, and split a longer sentence with separators.',
      'paragraph: pack whole paragraphs (blank-line separated), and split a longer paragraph into sentences, then with separators.',
      'markdown_aware: keep fenced code blocks and tables whole, and split a longer block at lines or rows with its opening fence line or header repeated in the chunk prefix. metadata.heading_path lists the headings in force at the chunk start (options.split_on_headings).',
      'code_aware: split source code at top-level declarations found by indentation and bracket depth, then at lines (options.language).',
      'table_aware: keep Markdown, CSV/TSV and "a | b" tables whole, else split between rows with the header row repeated in the chunk prefix. Other text is split as by recursive_character.',
      'token_based: chunk_size and chunk_overlap count tokens (options.encoding). Packs sentences and cuts a longer one between tokens.',
      'semantic: start a new chunk where the next sentence embedding diverges from the chunk (options.similarity_threshold, options.embedder_id).',
    ].join(' '),
  })
  @IsOptional()
  @IsIn([...CHUNKING_STRATEGIES])
  strategy?: ChunkingStrategy;

  @ApiPropertyOptional({
    default: 1000,
    minimum: 1,
    maximum: 100000,
    description:
      'Maximum chunk length in characters (UTF-16 code units), including a repeated header; in tokens for token_based, which needs at least 4',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  chunk_size?: number;

  @ApiPropertyOptional({
    default: 100,
    minimum: 0,
    description: 'Maximum text shared by consecutive chunks, in the unit of chunk_size, and less than chunk_size',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  chunk_overlap?: number;

  @ApiPropertyOptional({
    type: [String],
    default: ['\n\n', '\n', '. ', ' ', ''],
    description:
      'Split points tried in order ("" means between any two characters): by recursive_character, and by sentence, paragraph, ' +
      'markdown_aware, table_aware and semantic for text too long for their units. fixed_size, code_aware and token_based ignore it',
  })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  separators?: string[];

  @ApiPropertyOptional({ type: ChunkingOptionsDto, description: 'Options of the chosen strategy' })
  @IsOptional()
  @ValidateNested()
  @Type(() => ChunkingOptionsDto)
  options?: ChunkingOptionsDto;
}

export class ExtractionConfigDto {
  @ApiPropertyOptional({
    enum: ['document', 'records'],
    default: 'document',
    description:
      'JSON and NDJSON files: document indexes the whole file as one item; records makes one item per record ' +
      '(array element or line), so each record is found and cited on its own',
  })
  @IsOptional()
  @IsIn(['document', 'records'])
  json_mode?: 'document' | 'records';
}

export class CollectionTransformJobConfigDto {
  @ApiPropertyOptional({ type: ExtractionConfigDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ExtractionConfigDto)
  extraction?: ExtractionConfigDto;

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
