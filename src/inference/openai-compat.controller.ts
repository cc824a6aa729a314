import {
  ArgumentsHost,
  Body,
  Catch,
  Controller,
  ExceptionFilter,
  Get,
  HttpCode,
  HttpException,
  Logger,
  Post,
  UseFilters,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { AppError, InvalidInputError, OverloadedError } from 'src/common/app-error';
import { statusForKind } from 'src/common/app-exception.filter';
import { OpenAiEmbeddingsRequestDto } from 'src/inference/dto/inference-requests.dto';
import { InferenceService } from 'src/inference/inference.service';
import { ModelRegistry } from 'src/inference/model-registry.service';

/**
 * Errors in OpenAI's shape (`{error: {message, type, code, param}}`), which OpenAI client
 * libraries read; other routes keep the product's own error body.
 */
@Catch()
export class OpenAiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(OpenAiErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    let status = 500;
    let message = 'internal error';
    let code = 'internal_error';
    if (exception instanceof AppError) {
      status = statusForKind(exception.kind);
      message = exception.kind === 'internal' ? message : exception.message;
      code = exception.code;
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const raw = exception.getResponse() as { message?: unknown } | string;
      const detail = typeof raw === 'string' ? raw : raw.message;
      message = Array.isArray(detail) ? detail.join('; ') : String(detail ?? exception.message);
      code = status === 400 ? 'invalid_request' : 'http_error';
    }
    if (status >= 500) {
      const request = host.switchToHttp().getRequest<{ id?: unknown; url?: string }>();
      this.logger.error({ err: exception, request_id: request.id, path: request.url }, 'request failed');
    }
    if (exception instanceof OverloadedError) response.setHeader('Retry-After', String(exception.retryAfterSecs));
    const type = status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
    response.status(status).json({ error: { message, type, code, param: null } });
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
