import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsDefined, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateIf } from 'class-validator';
import { MODEL_ID_PATTERN } from 'src/inference/model-id';

const MODEL_ID_MESSAGE = 'model must be a Hugging Face model id such as BAAI/bge-small-en-v1.5';

export class EmbedRequestDto {
  @ApiProperty({ example: 'BAAI/bge-small-en-v1.5' })
  @IsString()
  @Matches(MODEL_ID_PATTERN, { message: MODEL_ID_MESSAGE })
  model: string;

  @ApiPropertyOptional({ type: [String], description: 'Texts to embed; give either texts or text' })
  @ValidateIf((body: EmbedRequestDto) => body.texts !== undefined)
  @IsArray({ message: 'texts must be an array of strings' })
  @IsString({ each: true })
  texts?: string[];

  @ApiPropertyOptional({ description: 'One text to embed' })
  @ValidateIf((body: EmbedRequestDto) => body.text !== undefined)
  @IsString()
  text?: string;

  @ApiPropertyOptional({
    enum: ['query', 'document'],
    description: "Selects the model's prompt for this kind of input, when its sentence-transformers config defines one",
  })
  @IsOptional()
  @IsIn(['query', 'document'])
  input_type?: 'query' | 'document';
}

export class OpenAiEmbeddingsRequestDto {
  @ApiProperty({ example: 'BAAI/bge-small-en-v1.5' })
  @IsString()
  @Matches(MODEL_ID_PATTERN, { message: MODEL_ID_MESSAGE })
  model: string;

  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: 'Text or texts to embed' })
  @IsDefined({ message: 'input is required: a string or an array of strings' })
  input: unknown;

  @ApiPropertyOptional({ enum: ['float', 'base64'], default: 'float' })
  @IsOptional()
  @IsIn(['float', 'base64'])
  encoding_format?: 'float' | 'base64';

  @ApiPropertyOptional({ description: "Must equal the model's dimensions when given; shortening is not supported" })
  @IsOptional()
  @IsInt()
  @Min(1)
  dimensions?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  user?: string;
}

export class RerankRequestDto {
  @ApiProperty({ example: 'BAAI/bge-reranker-base' })
  @IsString()
  @Matches(MODEL_ID_PATTERN, { message: MODEL_ID_MESSAGE })
  model: string;

  @ApiProperty()
  @IsString()
  query: string;

  @ApiProperty({
    description: 'Documents to score: strings, or objects with text and an optional id returned with the result',
    oneOf: [
      { type: 'array', items: { type: 'string' } },
      { type: 'array', items: { type: 'object', properties: { text: { type: 'string' }, id: { type: 'string' } } } },
    ],
  })
  @IsArray()
  documents: unknown[];

  @ApiPropertyOptional({ minimum: 1, description: 'Return only the best top_k documents' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  top_k?: number;

  @ApiPropertyOptional({ default: false, description: 'Include each document text in the results' })
  @IsOptional()
  @IsBoolean()
  return_documents?: boolean;
}
