import { InferenceSession } from 'onnxruntime-node';
import { InvalidInputError } from 'src/common/app-error';
import { ModelDescriptor } from 'src/inference/model-files';
import { EncodedInput, ModelTokenizer } from 'src/inference/model-tokenizer';
import { ExecutionDevice, SessionOptions, buildInputFeeds, openSession } from 'src/inference/onnx-session';
import { normalizeL2, poolTokens } from 'src/inference/pooling';

// Output names used by optimum and sentence-transformers exports, pooled ones first.
const EMBEDDING_OUTPUTS = ['sentence_embedding', 'last_hidden_state', 'token_embeddings'];

/** Time spent inside `session.run`, so a benchmark can tell runtime cost from our own. */
export class SessionRunClock {
  runs = 0;
  milliseconds = 0;
  /** Called with the seconds of each run, for a latency histogram. */
  onRun?: (seconds: number) => void;

  async time<T>(work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      const elapsed = performance.now() - started;
      this.runs++;
      this.milliseconds += elapsed;
      this.onRun?.(elapsed / 1000);
    }
  }
}

abstract class LoadedModel {
  readonly clock = new SessionRunClock();

  protected constructor(
    readonly descriptor: ModelDescriptor,
    protected readonly session: InferenceSession,
    readonly tokenizer: ModelTokenizer,
    readonly device: ExecutionDevice,
  ) {}

  get id(): string {
    return this.descriptor.id;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** A bi-encoder: token vectors from the graph, pooled and normalised as the model's config specifies. */
export class EmbeddingModel extends LoadedModel {
  readonly kind = 'embedding' as const;
  private readonly outputName: string;
  /** Vector length, learned from a first run when the model is loaded. */
  dimensions = 0;

  private constructor(descriptor: ModelDescriptor, session: InferenceSession, tokenizer: ModelTokenizer, device: ExecutionDevice) {
    super(descriptor, session, tokenizer, device);
    this.outputName = EMBEDDING_OUTPUTS.find((name) => session.outputNames.includes(name)) ?? session.outputNames[0];
  }

  static async load(descriptor: ModelDescriptor, options: SessionOptions): Promise<EmbeddingModel> {
    const tokenizer = await ModelTokenizer.load(descriptor.dir, descriptor.maxLength);
    const { session, device } = await openSession(descriptor.onnxFile, options);
    const model = new EmbeddingModel(descriptor, session, tokenizer, device);
    try {
      const [probe] = await model.run([model.encode('probe', undefined).input]);
      model.dimensions = probe.length;
    } catch (error) {
      await session.release();
      throw error;
    }
    return model;
  }

  /**
   * Tokenizes one text, with the model's prompt for `inputType` (for example BGE's query
   * instruction) put in front when the model defines one.
   */
  encode(text: string, inputType: string | undefined): { input: EncodedInput; truncated: boolean } {
    const prompt = inputType ? (this.descriptor.prompts[inputType] ?? '') : '';
    const { truncated, ...input } = this.tokenizer.encode(prompt + text);
    return { input, truncated };
  }

  /** Embeds one padded batch with one `session.run`. */
  async run(inputs: EncodedInput[]): Promise<Float32Array[]> {
    const feeds = buildInputFeeds(this.session, inputs, this.tokenizer.padId);
    const outputs = await this.clock.time(() => this.session.run(feeds, [this.outputName]));
    const output = outputs[this.outputName];
    requireFloatOutput(this.id, this.outputName, output.type);
    const data = output.data as Float32Array;
    const dims = output.dims.map(Number);
    if (dims[0] !== inputs.length || dims[dims.length - 1] === 0) {
      throw new InvalidInputError(
        'model_output_unsupported',
        `Model ${this.id} output ${this.outputName} has shape [${dims.join(', ')}] for ${inputs.length} inputs`,
      );
    }

    let vectors: Float32Array[];
    if (dims.length === 2) {
      vectors = Array.from({ length: dims[0] }, (_, row) => data.slice(row * dims[1], (row + 1) * dims[1]));
    } else if (dims.length === 3) {
      const mask = feeds.attention_mask?.data as BigInt64Array | undefined;
      const rowMask = mask ?? maskFromInputs(inputs, dims[1]);
      vectors = poolTokens(data, rowMask, { batch: dims[0], sequence: dims[1], size: dims[2] }, this.descriptor.pooling);
    } else {
      throw new InvalidInputError('model_output_unsupported', `Model ${this.id} output ${this.outputName} has shape [${dims.join(', ')}]; expected 2 or 3 axes`);
    }
    if (this.dimensions > 0 && vectors.some((vector) => vector.length !== this.dimensions)) {
      throw new InvalidInputError(
        'model_output_unsupported',
        `Model ${this.id} returned vectors of ${vectors[0]?.length} values after ${this.dimensions} at load; its output width must not depend on the input`,
      );
    }
    if (vectors.some((vector) => !vector.every(Number.isFinite))) {
      throw new InvalidInputError('model_output_invalid', `Model ${this.id} produced NaN or infinite values`);
    }
    return this.descriptor.normalize ? vectors.map(normalizeL2) : vectors;
  }
}

/** A cross-encoder: one relevance score per query and document pair. */
export class RerankerModel extends LoadedModel {
  readonly kind = 'reranker' as const;
  private readonly outputName: string;

  private constructor(descriptor: ModelDescriptor, session: InferenceSession, tokenizer: ModelTokenizer, device: ExecutionDevice) {
    super(descriptor, session, tokenizer, device);
    this.outputName = session.outputNames.includes('logits') ? 'logits' : session.outputNames[0];
  }

  static async load(descriptor: ModelDescriptor, options: SessionOptions): Promise<RerankerModel> {
    const tokenizer = await ModelTokenizer.load(descriptor.dir, descriptor.maxLength);
    const { session, device } = await openSession(descriptor.onnxFile, options);
    const model = new RerankerModel(descriptor, session, tokenizer, device);
    try {
      await model.run([model.encodePair('probe', 'probe')]);
    } catch (error) {
      await session.release();
      throw error;
    }
    return model;
  }

  encodePair(query: string, document: string): EncodedInput {
    return this.tokenizer.encodePair(query, document);
  }

  /**
   * Scores one padded batch. A single logit becomes a probability through the sigmoid, as
   * sentence-transformers' CrossEncoder does; with several labels the last label's softmax
   * probability is the score.
   */
  async run(pairs: EncodedInput[]): Promise<number[]> {
    const feeds = buildInputFeeds(this.session, pairs, this.tokenizer.padId);
    const outputs = await this.clock.time(() => this.session.run(feeds, [this.outputName]));
    const output = outputs[this.outputName];
    requireFloatOutput(this.id, this.outputName, output.type);
    const data = output.data as Float32Array;
    const dims = output.dims.map(Number);
    if (dims[0] !== pairs.length || dims.length > 2 || (dims.length === 2 && dims[1] < 1)) {
      throw new InvalidInputError(
        'model_output_unsupported',
        `Reranker ${this.id} output ${this.outputName} has shape [${dims.join(', ')}]; expected [${pairs.length}] or [${pairs.length}, labels]`,
      );
    }
    const labels = dims.length === 2 ? dims[1] : 1;

    const scores = pairs.map((_, row) => {
      if (labels === 1) return sigmoid(data[row]);
      const logits = Array.from(data.subarray(row * labels, (row + 1) * labels));
      const max = Math.max(...logits);
      const exps = logits.map((logit) => Math.exp(logit - max));
      return exps[labels - 1] / exps.reduce((sum, value) => sum + value, 0);
    });
    if (!scores.every(Number.isFinite)) {
      throw new InvalidInputError('model_output_invalid', `Reranker ${this.id} produced NaN scores`);
    }
    return scores;
  }
}

export type LoadedInferenceModel = EmbeddingModel | RerankerModel;

function requireFloatOutput(modelId: string, outputName: string, type: string): void {
  if (type !== 'float32') {
    throw new InvalidInputError('model_output_unsupported', `Model ${modelId} output ${outputName} is ${type}; expected float32`);
  }
}

function sigmoid(value: number): number {
  return 1 / (1 + Math.exp(-value));
}

function maskFromInputs(inputs: EncodedInput[], sequence: number): Uint8Array {
  const mask = new Uint8Array(inputs.length * sequence);
  inputs.forEach((input, row) => mask.fill(1, row * sequence, row * sequence + input.ids.length));
  return mask;
}
