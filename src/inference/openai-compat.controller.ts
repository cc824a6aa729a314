import { Body, Catch, Controller, Get, HttpCode, Post, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { InvalidInputError } from 'src/common/app-error';
import { AppExceptionFilter, ErrorBody } from 'src/common/app-exception.filter';
import { OpenAiEmbeddingsRequestDto } from 'src/inference/dto/inference-requests.dto';
import { InferenceService } from 'src/inference/inference.service';
import { ModelRegistry } from 'src/inference/model-registry.service';

/**
 * Errors in OpenAI's shape (`{error: {message, type, code, param}}`), which OpenAI client
 * libraries read; status codes, logging and Retry-After are those of every other route.
 */
@Catch()
export class OpenAiErrorFilter extends AppExceptionFilter {
  protected override send(response: Response, status: number, body: ErrorBody): void {
    let type = 'invalid_request_error';
    if (status === 429) type = 'rate_limit_error';
    if (status >= 500) type = 'server_error';
    response.status(status).json({ error: { message: body.message, type, code: body.code, param: null, request_id: body.request_id } });
  }
}

/**
 * OpenAI-compatible embeddings, so tools built for the OpenAI API (and this product's own
 * `openai` embedders) can use the local models.
 */
@ApiTags('inference')
@Controller('v1')
@UseFilters(OpenAiErrorFilter)
export class OpenAiCompatController {
  constructor(
    private readonly inference: InferenceService,
    private readonly registry: ModelRegistry,
  ) {}

  @Post('embeddings')
  @HttpCode(200)
  @ApiOperation({ summary: 'OpenAI-compatible embeddings with a local ONNX model' })
  async embeddings(@Body() body: OpenAiEmbeddingsRequestDto) {
    const texts = readInput(body.input);
    const result = await this.inference.embed(body.model, texts);
    if (body.dimensions !== undefined && body.dimensions !== null && body.dimensions !== result.dimensions) {
      throw new InvalidInputError(
        'dimensions_unsupported',
        `Model ${body.model} returns ${result.dimensions} dimensions; requested ${body.dimensions}, and shortening is not supported`,
      );
    }
    const base64 = body.encoding_format === 'base64';
    return {
      object: 'list',
      data: result.vectors.map((vector, index) => ({
        object: 'embedding',
        index,
        embedding: base64 ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64') : Array.from(vector),
      })),
      model: result.model,
      usage: { prompt_tokens: result.tokens, total_tokens: result.tokens },
    };
  }

  @Get('models')
  @ApiOperation({ summary: 'Loaded and allowed models in OpenAI list form' })
  models() {
    return {
      object: 'list',
      data: this.registry.statuses().map((model) => ({ id: model.id, object: 'model', created: 0, owned_by: 'local' })),
    };
  }
}

/** Reads `input` as OpenAI does: a non-empty string or a non-empty array of non-empty strings. */
function readInput(input: unknown): string[] {
  if (input === '' || (Array.isArray(input) && input.length === 0)) {
    throw new InvalidInputError('input_invalid', 'input must not be empty');
  }
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((item) => typeof item === 'string')) {
    const empty = input.findIndex((item) => item === '');
    if (empty >= 0) throw new InvalidInputError('input_invalid', `input[${empty}] must not be an empty string`);
    return input as string[];
  }
  throw new InvalidInputError(
    'input_invalid',
    'input must be a string or an array of strings; token id arrays are not supported by this server',
  );
}
