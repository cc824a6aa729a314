import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { InvalidInputError } from 'src/common/app-error';
import { EmbedRequestDto, RerankRequestDto } from 'src/inference/dto/inference-requests.dto';
import { InferenceService, RerankDocument, RerankResult } from 'src/inference/inference.service';
import { ModelRegistry, ModelStatus } from 'src/inference/model-registry.service';

export interface EmbedResponse {
  embeddings: number[][];
  model: string;
  count: number;
  dimensions: number;
  usage: { tokens: number; truncated: number };
}

/** The inference role's own API, which `internal` embedders call. */
@ApiTags('inference')
@Controller('api')
export class InferenceController {
  constructor(
    private readonly inference: InferenceService,
    private readonly registry: ModelRegistry,
  ) {}

  @Post('embed')
  @HttpCode(200)
  @ApiOperation({ summary: 'Embed texts with a local ONNX model' })
  async embed(@Body() body: EmbedRequestDto): Promise<EmbedResponse> {
    const texts = readEmbedTexts(body);
    const result = await this.inference.embed(body.model, texts, body.input_type);
    return {
      embeddings: result.vectors.map((vector) => Array.from(vector)),
      model: result.model,
      count: result.vectors.length,
      dimensions: result.dimensions,
      usage: { tokens: result.tokens, truncated: result.truncated },
    };
  }

  @Post('rerank')
  @HttpCode(200)
  @ApiOperation({ summary: 'Score documents against a query with a cross-encoder, best first' })
  async rerank(@Body() body: RerankRequestDto): Promise<{ results: RerankResult[]; model: string }> {
    const documents = body.documents.map(readRerankDocument);
    const results = await this.inference.rerank(body.model, body.query, documents, body.top_k ?? undefined, body.return_documents ?? false);
    return { results, model: body.model };
  }

  @Get('models')
  @ApiOperation({ summary: 'Models this service may load, with their state' })
  models(): { models: ModelStatus[] } {
    return { models: this.registry.statuses() };
  }
}

/** Takes `texts` or `text`, exactly one of them, each checked to be strings. */
function readEmbedTexts(body: EmbedRequestDto): string[] {
  const hasTexts = body.texts !== undefined && body.texts !== null;
  const hasText = body.text !== undefined && body.text !== null;
  if (hasTexts === hasText) {
    throw new InvalidInputError('embed_input_invalid', 'give either texts (an array of strings) or text (a string), not both and not neither');
  }
  if (hasText) return [body.text as string];
  return body.texts as string[];
}

function readRerankDocument(value: unknown, index: number): RerankDocument {
  if (typeof value === 'string') return { text: value };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const { text, id, ...rest } = value as Record<string, unknown>;
    const unknownFields = Object.keys(rest);
    if (typeof text === 'string' && (id === undefined || typeof id === 'string' || typeof id === 'number') && unknownFields.length === 0) {
      return { text, ...(id !== undefined ? { id: String(id) } : {}) };
    }
  }
  throw new InvalidInputError(
    'rerank_document_invalid',
    `documents[${index}] must be a string or an object {text: string, id?: string}`,
    { index },
  );
}
