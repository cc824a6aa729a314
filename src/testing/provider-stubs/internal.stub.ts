import { ProviderStub } from 'src/testing/provider-stubs/provider-stub';

/** Stub of the inference role's `POST /api/embed`, with errors as `{ message }`. */
export class InternalStub extends ProviderStub {
  protected readonly path = '/api/embed';

  protected readTexts(body: any): string[] | { invalid: string } {
    const texts = body?.texts;
    if (!Array.isArray(texts) || texts.some((text) => typeof text !== 'string')) {
      return { invalid: 'texts must be a list of strings' };
    }
    return texts;
  }

  protected successBody(_body: any, vectors: number[][]): unknown {
    return { embeddings: vectors };
  }

  protected errorBody(_status: number, message: string): unknown {
    return { message };
  }
}
