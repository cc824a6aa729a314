import { onnx } from 'onnx-proto';
import { GraphBuilder, createSeededRandom, randomFloat32Array } from 'src/testing/onnx-models/onnx-graph';

/*
 * ONNX models for inference tests, built in memory because no model can be downloaded.
 * Every model takes the three BERT inputs `input_ids`, `attention_mask` and `token_type_ids`,
 * all int64 [batch, sequence]. The opset rules these graphs rely on (opset 17): Unsqueeze and
 * ReduceSum take `axes` as an input, LayerNormalization exists, Softmax normalizes one axis.
 */

const DEFAULT_SEED = 42;
/** Token type vocabulary of BERT models: sentence A and sentence B. */
const TYPE_VOCAB_SIZE = 2;
const CAST_TO_FLOAT = { to: { int: onnx.TensorProto.DataType.FLOAT } };

export interface EmbeddingModelOptions {
  vocabSize: number;
  hidden: number;
  seed?: number;
}

export interface BiEncoderModel {
  bytes: Uint8Array;
  /** Row-major [vocabSize, hidden]. */
  tokenEmbeddings: Float32Array;
  /** Row-major [2, hidden]. */
  typeEmbeddings: Float32Array;
}

export interface CrossEncoderModel extends BiEncoderModel {
  /** Classifier weights, one per hidden unit. */
  weights: Float32Array;
  bias: number;
}

export interface TransformerEncoderOptions {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  vocabSize: number;
  maxPositions: number;
  seed?: number;
}

function checkPositiveIntegers(options: object): void {
  for (const [name, value] of Object.entries(options)) {
    if (name !== 'seed' && (!Number.isInteger(value) || value <= 0)) {
      throw new Error(`invalid model option ${name}: ${value} is not a positive integer`);
    }
  }
}

function addBertInputs(graph: GraphBuilder): { inputIds: string; attentionMask: string; tokenTypeIds: string } {
  return {
    inputIds: graph.addInput('input_ids', 'int64', ['batch', 'sequence']),
    attentionMask: graph.addInput('attention_mask', 'int64', ['batch', 'sequence']),
    tokenTypeIds: graph.addInput('token_type_ids', 'int64', ['batch', 'sequence']),
  };
}

/** Adds Cast + Unsqueeze so the int64 [batch, sequence] mask multiplies [batch, sequence, hidden] tensors. */
function addFloatMask(graph: GraphBuilder, attentionMask: string): string {
  const maskFloat = graph.addNode('Cast', [attentionMask], { attributes: CAST_TO_FLOAT });
  const lastAxis = graph.addInt64Initializer('mask_unsqueeze_axes', [1], [-1]);
  return graph.addNode('Unsqueeze', [maskFloat, lastAxis]);
}

/** Adds tokenEmbeddings[input_ids] + typeEmbeddings[token_type_ids], shape [batch, sequence, hidden]. */
function addSummedEmbeddings(
  graph: GraphBuilder,
  inputs: { inputIds: string; tokenTypeIds: string },
  weights: { tokenEmbeddings: Float32Array; typeEmbeddings: Float32Array; vocabSize: number; hidden: number },
): string {
  const tokenTable = graph.addFloatInitializer(
    'token_embeddings',
    [weights.vocabSize, weights.hidden],
    weights.tokenEmbeddings,
  );
  const typeTable = graph.addFloatInitializer(
    'type_embeddings',
    [TYPE_VOCAB_SIZE, weights.hidden],
    weights.typeEmbeddings,
  );
  const tokenVectors = graph.addNode('Gather', [tokenTable, inputs.inputIds], { attributes: { axis: { int: 0 } } });
  const typeVectors = graph.addNode('Gather', [typeTable, inputs.tokenTypeIds], { attributes: { axis: { int: 0 } } });
  return graph.addNode('Add', [tokenVectors, typeVectors]);
}

function drawEmbeddingWeights(options: EmbeddingModelOptions) {
  const random = createSeededRandom(options.seed ?? DEFAULT_SEED);
  return {
    random,
    tokenEmbeddings: randomFloat32Array(options.vocabSize * options.hidden, 1, random),
    typeEmbeddings: randomFloat32Array(TYPE_VOCAB_SIZE * options.hidden, 1, random),
  };
}

/**
 * Builds an embedding model whose `last_hidden_state` [batch, sequence, hidden] is
 * (tokenEmbeddings[input_ids] + typeEmbeddings[token_type_ids]) * attention_mask, so tests can
 * compute the expected output by hand. Padded positions come out as zero vectors.
 */
export function buildBiEncoderModel(options: EmbeddingModelOptions): BiEncoderModel {
  checkPositiveIntegers(options);
  const { tokenEmbeddings, typeEmbeddings } = drawEmbeddingWeights(options);

  const graph = new GraphBuilder('tiny_bi_encoder');
  const inputs = addBertInputs(graph);
  const summed = addSummedEmbeddings(graph, inputs, { ...options, tokenEmbeddings, typeEmbeddings });
  const mask = addFloatMask(graph, inputs.attentionMask);
  graph.addNode('Mul', [summed, mask], { outputName: 'last_hidden_state' });
  graph.addOutput('last_hidden_state', 'float32', ['batch', 'sequence', options.hidden]);

  return { bytes: graph.encode(), tokenEmbeddings, typeEmbeddings };
}

/**
 * Builds a reranker whose `logits` [batch, 1] are the masked mean over the sequence of
 * tokenEmbeddings[input_ids] + typeEmbeddings[token_type_ids], dotted with `weights`, plus `bias`.
 * The masked mean is sum(h * mask) / sum(mask), so a row with an all-zero mask gives NaN.
 */
export function buildCrossEncoderModel(options: EmbeddingModelOptions): CrossEncoderModel {
  checkPositiveIntegers(options);
  const { random, tokenEmbeddings, typeEmbeddings } = drawEmbeddingWeights(options);
  const weights = randomFloat32Array(options.hidden, 1, random);
  // Round through float32 so the returned bias equals the stored one exactly.
  const bias = Math.fround(random() * 2 - 1);

  const graph = new GraphBuilder('tiny_cross_encoder');
  const inputs = addBertInputs(graph);
  const summed = addSummedEmbeddings(graph, inputs, { ...options, tokenEmbeddings, typeEmbeddings });
  const mask = addFloatMask(graph, inputs.attentionMask);

  const sequenceAxis = graph.addInt64Initializer('sequence_axis', [1], [1]);
  const reduceOptions = { attributes: { keepdims: { int: 0 } } };
  const maskedSum = graph.addNode('ReduceSum', [graph.addNode('Mul', [summed, mask]), sequenceAxis], reduceOptions);
  const tokenCount = graph.addNode('ReduceSum', [mask, sequenceAxis], reduceOptions);
  const pooled = graph.addNode('Div', [maskedSum, tokenCount]);

  const classifierWeights = graph.addFloatInitializer('classifier_weights', [options.hidden, 1], weights);
  const classifierBias = graph.addFloatInitializer('classifier_bias', [1], [bias]);
  const score = graph.addNode('MatMul', [pooled, classifierWeights]);
  graph.addNode('Add', [score, classifierBias], { outputName: 'logits' });
  graph.addOutput('logits', 'float32', ['batch', 1]);

  return { bytes: graph.encode(), tokenEmbeddings, typeEmbeddings, weights, bias };
}

/**
 * Half-width of the uniform range of random weights, close to BERT's initializer (normal, std 0.02).
 * Speed does not depend on the values.
 */
const WEIGHT_SCALE = 0.02;
/** Bias added to attention scores of padded keys. exp(-10000) is 0 in float32, so they get no weight. */
const MASKED_SCORE_BIAS = -10000;
const LAYER_NORM_EPSILON = 1e-12;

interface LayerShape {
  hidden: number;
  heads: number;
  intermediate: number;
}

/** Shared constants that every layer references by name. */
interface EncoderConstants {
  splitHeadsShape: string;
  mergeHeadsShape: string;
  attentionScale: string;
  sqrtTwo: string;
  scalarOne: string;
  half: string;
}

class EncoderWeights {
  constructor(
    private readonly graph: GraphBuilder,
    private readonly random: () => number,
  ) {}

  matrix(name: string, rows: number, columns: number): string {
    const values = randomFloat32Array(rows * columns, WEIGHT_SCALE, this.random);
    return this.graph.addFloatInitializer(name, [rows, columns], values);
  }

  vector(name: string, length: number): string {
    return this.graph.addFloatInitializer(name, [length], randomFloat32Array(length, WEIGHT_SCALE, this.random));
  }

  filled(name: string, length: number, value: number): string {
    return this.graph.addFloatInitializer(name, [length], new Float32Array(length).fill(value));
  }
}

function addLinear(
  graph: GraphBuilder,
  weights: EncoderWeights,
  input: string,
  name: string,
  rows: number,
  columns: number,
): string {
  const product = graph.addNode('MatMul', [input, weights.matrix(`${name}.weight`, rows, columns)]);
  return graph.addNode('Add', [product, weights.vector(`${name}.bias`, columns)]);
}

function addLayerNorm(
  graph: GraphBuilder,
  weights: EncoderWeights,
  input: string,
  name: string,
  hidden: number,
  outputName?: string,
): string {
  const scale = weights.filled(`${name}.weight`, hidden, 1);
  const shift = weights.filled(`${name}.bias`, hidden, 0);
  return graph.addNode('LayerNormalization', [input, scale, shift], {
    attributes: { axis: { int: -1 }, epsilon: { float: LAYER_NORM_EPSILON } },
    outputName,
  });
}

/** Adds the exact GELU, 0.5 * x * (1 + erf(x / sqrt(2))), as BERT uses it. */
function addGelu(graph: GraphBuilder, constants: EncoderConstants, input: string): string {
  const erf = graph.addNode('Erf', [graph.addNode('Div', [input, constants.sqrtTwo])]);
  const gate = graph.addNode('Add', [erf, constants.scalarOne]);
  return graph.addNode('Mul', [graph.addNode('Mul', [input, gate]), constants.half]);
}

/** Adds one post-norm BERT layer: self-attention, then the feed-forward block, each with residual + LayerNorm. */
function addEncoderLayer(
  graph: GraphBuilder,
  weights: EncoderWeights,
  constants: EncoderConstants,
  shape: LayerShape,
  input: string,
  maskBias: string,
  layerIndex: number,
  outputName?: string,
): string {
  const prefix = `layer${layerIndex}`;
  const { hidden, intermediate } = shape;

  // Splits [batch, sequence, hidden] into [batch, heads, sequence, headSize]. Keys get
  // [batch, heads, headSize, sequence] instead, so that queries x keys gives the scores directly.
  const splitHeads = (projection: string, perm: number[]) =>
    graph.addNode('Transpose', [graph.addNode('Reshape', [projection, constants.splitHeadsShape])], {
      attributes: { perm: { ints: perm } },
    });
  const project = (name: string) => addLinear(graph, weights, input, `${prefix}.attention.${name}`, hidden, hidden);
  const queries = splitHeads(project('query'), [0, 2, 1, 3]);
  const keys = splitHeads(project('key'), [0, 2, 3, 1]);
  const values = splitHeads(project('value'), [0, 2, 1, 3]);

  const scores = graph.addNode('Mul', [graph.addNode('MatMul', [queries, keys]), constants.attentionScale]);
  const probabilities = graph.addNode('Softmax', [graph.addNode('Add', [scores, maskBias])], {
    attributes: { axis: { int: -1 } },
  });
  const context = graph.addNode('Transpose', [graph.addNode('MatMul', [probabilities, values])], {
    attributes: { perm: { ints: [0, 2, 1, 3] } },
  });
  const merged = graph.addNode('Reshape', [context, constants.mergeHeadsShape]);
  const attentionOutput = addLinear(graph, weights, merged, `${prefix}.attention.output`, hidden, hidden);
  const attentionResidual = graph.addNode('Add', [attentionOutput, input]);
  const attended = addLayerNorm(graph, weights, attentionResidual, `${prefix}.attention.norm`, hidden);

  const intermediateStates = addLinear(graph, weights, attended, `${prefix}.intermediate`, hidden, intermediate);
  const expanded = addGelu(graph, constants, intermediateStates);
  const projected = addLinear(graph, weights, expanded, `${prefix}.output`, intermediate, hidden);
  const outputResidual = graph.addNode('Add', [projected, attended]);
  return addLayerNorm(graph, weights, outputResidual, `${prefix}.output.norm`, hidden, outputName);
}

/** Adds word + position + token type embeddings followed by LayerNorm. */
function addEncoderEmbeddings(
  graph: GraphBuilder,
  weights: EncoderWeights,
  inputs: { inputIds: string; tokenTypeIds: string },
  options: TransformerEncoderOptions,
): string {
  const gather = (data: string, indices: string) =>
    graph.addNode('Gather', [data, indices], { attributes: { axis: { int: 0 } } });
  const wordTable = weights.matrix('embeddings.word', options.vocabSize, options.hidden);
  const typeTable = weights.matrix('embeddings.token_type', TYPE_VOCAB_SIZE, options.hidden);
  const positionTable = weights.matrix('embeddings.position', options.maxPositions, options.hidden);
  const words = gather(wordTable, inputs.inputIds);
  const types = gather(typeTable, inputs.tokenTypeIds);

  // Position ids 0..sequence-1, computed in the graph so any sequence length up to maxPositions works.
  const inputShape = graph.addNode('Shape', [inputs.inputIds]);
  const sequenceLength = gather(inputShape, graph.addInt64Initializer('sequence_dim', [], [1]));
  const positionIds = graph.addNode('Range', [
    graph.addInt64Initializer('range_start', [], [0]),
    sequenceLength,
    graph.addInt64Initializer('range_step', [], [1]),
  ]);
  const positions = gather(positionTable, positionIds);

  const summed = graph.addNode('Add', [graph.addNode('Add', [words, positions]), types]);
  return addLayerNorm(graph, weights, summed, 'embeddings.norm', options.hidden);
}

/** Adds the [batch, 1, 1, sequence] bias: 0 for real tokens, MASKED_SCORE_BIAS for padding. */
function addAttentionMaskBias(graph: GraphBuilder, constants: EncoderConstants, attentionMask: string): string {
  const maskFloat = graph.addNode('Cast', [attentionMask], { attributes: CAST_TO_FLOAT });
  const padding = graph.addNode('Sub', [constants.scalarOne, maskFloat]);
  const bias = graph.addNode('Mul', [padding, graph.addFloatScalar('masked_score_bias', MASKED_SCORE_BIAS)]);
  return graph.addNode('Unsqueeze', [bias, graph.addInt64Initializer('mask_bias_axes', [2], [1, 2])]);
}

/**
 * Builds a BERT-like encoder with random weights (scale 0.02) for speed measurements.
 * It uses the ops of an unfused BERT export: embeddings + LayerNorm, then per layer Q/K/V
 * projections, multi-head attention with a padding bias, output projection, residual +
 * LayerNorm, an exact-GELU feed-forward block and residual + LayerNorm. Its outputs are meaningless.
 */
export function buildTransformerEncoderModel(options: TransformerEncoderOptions): { bytes: Uint8Array } {
  checkPositiveIntegers(options);
  if (options.hidden % options.heads !== 0) {
    throw new Error(`invalid model options: hidden ${options.hidden} is not divisible by heads ${options.heads}`);
  }
  const headSize = options.hidden / options.heads;

  const graph = new GraphBuilder('tiny_transformer_encoder');
  const weights = new EncoderWeights(graph, createSeededRandom(options.seed ?? DEFAULT_SEED));
  const inputs = addBertInputs(graph);
  const constants: EncoderConstants = {
    // Reshape copies a 0 entry from the input shape, which keeps batch and sequence symbolic.
    splitHeadsShape: graph.addInt64Initializer('split_heads_shape', [4], [0, 0, options.heads, headSize]),
    mergeHeadsShape: graph.addInt64Initializer('merge_heads_shape', [3], [0, 0, options.hidden]),
    attentionScale: graph.addFloatScalar('attention_scale', 1 / Math.sqrt(headSize)),
    sqrtTwo: graph.addFloatScalar('gelu_sqrt_two', Math.SQRT2),
    scalarOne: graph.addFloatScalar('one', 1),
    half: graph.addFloatScalar('gelu_half', 0.5),
  };

  const maskBias = addAttentionMaskBias(graph, constants, inputs.attentionMask);
  let hiddenStates = addEncoderEmbeddings(graph, weights, inputs, options);
  for (let layerIndex = 0; layerIndex < options.layers; layerIndex++) {
    const isLast = layerIndex === options.layers - 1;
    hiddenStates = addEncoderLayer(
      graph,
      weights,
      constants,
      options,
      hiddenStates,
      maskBias,
      layerIndex,
      isLast ? 'last_hidden_state' : undefined,
    );
  }
  graph.addOutput('last_hidden_state', 'float32', ['batch', 'sequence', options.hidden]);

  return { bytes: graph.encode() };
}
