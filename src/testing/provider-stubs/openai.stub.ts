import { ProviderStub, ProviderStubOptions } from 'src/testing/provider-stubs/provider-stub';

/** OpenAI's per-request input cap, which the stub enforces like the real API. */
const MAX_INPUTS = 2048;

/**
 * Stub of OpenAI's `POST /v1/embeddings`. Returns `data[]` in reverse order, so clients must
 * order by `index`, and errors as `{ error: { message, type, param, code } }`.
 */
export class OpenAiStub extends ProviderStub {
  protected readonly path: string;

  /** `pathPrefix` is the part of the base URL after the host. Default `/v1`. */
  constructor(options: ProviderStubOptions = {}, pathPrefix = '/v1') {
    super(options);
    this.path = `${pathPrefix}/embeddings`;
  }

  protected readTexts(body: any): string[] | { invalid: string } {
    const input = body?.input;
    if (!Array.isArray(input) || input.some((text) => typeof text !== 'string' || text === '')) {
      return { invalid: "'input' must be a non-empty string or an array of non-empty strings" };
    }
    if (input.length > MAX_INPUTS) {
      return { invalid: `'input' must have at most ${MAX_INPUTS} items, got ${input.length}` };
    }
    if (typeof body.model !== 'string') {
      return { invalid: "'model' is required" };
    }
    return input;
  }

  protected override requestedDimensions(body: any): number | undefined {
    return typeof body?.dimensions === 'number' ? body.dimensions : undefined;
  }

  protected successBody(body: any, vectors: number[][]): unknown {
    const data = vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })).reverse();
    const tokens = (body.input as string[]).reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
    return { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
  }

  protected errorBody(status: number, message: string): unknown {
    const [type, code] = errorTypeAndCode(status);
    return { error: { message, type, param: null, code } };
  }
}

function errorTypeAndCode(status: number): [string, string | null] {
  switch (status) {
    case 401:
      return ['invalid_request_error', 'invalid_api_key'];
    case 404:
      return ['invalid_request_error', 'unknown_url'];
    case 429:
      return ['requests', 'rate_limit_exceeded'];
    default:
      return status >= 500 ? ['server_error', null] : ['invalid_request_error', null];
  }
}
