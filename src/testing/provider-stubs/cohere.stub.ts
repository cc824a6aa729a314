import { ProviderStub } from 'src/testing/provider-stubs/provider-stub';

/** Cohere's per-request text cap, which the stub enforces like the real API. */
const MAX_TEXTS = 96;
const INPUT_TYPES = ['search_document', 'search_query', 'classification', 'clustering'];

/** Stub of Cohere's `POST /v2/embed`, with errors as `{ message }`. */
export class CohereStub extends ProviderStub {
  protected readonly path = '/v2/embed';

  protected readTexts(body: any): string[] | { invalid: string } {
    const texts = body?.texts;
    if (!Array.isArray(texts) || texts.some((text) => typeof text !== 'string')) {
      return { invalid: 'invalid request: texts must be a list of strings' };
    }
    if (texts.length > MAX_TEXTS) {
      return { invalid: `invalid request: total number of texts must be at most ${MAX_TEXTS}, got ${texts.length}` };
    }
    if (!INPUT_TYPES.includes(body.input_type)) {
      return { invalid: 'invalid request: input_type is required for embed models v3 and higher' };
    }
    return texts;
  }

  protected successBody(body: any, vectors: number[][]): unknown {
    const tokens = (body.texts as string[]).reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
    return {
      id: `stub-${this.requests.length}`,
      embeddings: { float: vectors },
      texts: body.texts,
      meta: { api_version: { version: '2' }, billed_units: { input_tokens: tokens } },
    };
  }

  protected errorBody(_status: number, message: string): unknown {
    return { message };
  }
}
