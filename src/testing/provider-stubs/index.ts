export { CohereStub } from 'src/testing/provider-stubs/cohere.stub';
export { InternalStub } from 'src/testing/provider-stubs/internal.stub';
export { OpenAiStub } from 'src/testing/provider-stubs/openai.stub';
export { ProviderStub, stubVector } from 'src/testing/provider-stubs/provider-stub';
export type { ProviderStubOptions, RecordedRequest, StubBehaviour } from 'src/testing/provider-stubs/provider-stub';
