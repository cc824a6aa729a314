import { onnx } from 'onnx-proto';

/** Default-domain opset of every built model: LayerNormalization first appears in opset 17. */
export const OPSET_VERSION = 17;
/** ONNX IR version 8 is the newest that the onnx-proto 8.0.1 schema (ONNX v1.10.2) describes. */
export const IR_VERSION = 8;

const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

export type TensorElementType = 'float32' | 'int64';

const ELEMENT_TYPES: Record<TensorElementType, onnx.TensorProto.DataType> = {
  float32: DataType.FLOAT,
  int64: DataType.INT64,
};

/** A dimension of a graph input or output: a fixed size or a symbolic name such as `batch`. */
export type Dimension = number | string;

/** Node attribute value, tagged because ONNX stores integers and floats in different fields. */
export type AttributeValue =
  | { int: number }
  | { ints: number[] }
  | { float: number }
  | { floats: number[] }
  | { string: string };

function toAttributeProto(name: string, value: AttributeValue): onnx.IAttributeProto {
  if ('int' in value) {
    return { name, type: AttributeType.INT, i: value.int };
  }
  if ('ints' in value) {
    return { name, type: AttributeType.INTS, ints: value.ints };
  }
  if ('float' in value) {
    return { name, type: AttributeType.FLOAT, f: value.float };
  }
  if ('floats' in value) {
    return { name, type: AttributeType.FLOATS, floats: value.floats };
  }
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value.string) };
}

function toValueInfo(name: string, elementType: TensorElementType, dims: Dimension[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEMENT_TYPES[elementType],
        shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) },
      },
    },
  };
}

function checkElementCount(name: string, dims: number[], length: number): void {
  const expected = dims.reduce((product, dim) => product * dim, 1);
  if (expected !== length) {
    throw new Error(`initializer ${name}: shape [${dims.join(', ')}] needs ${expected} values, got ${length}`);
  }
}

/**
 * Collects the nodes, initializers, inputs and outputs of one ONNX graph and encodes it as a model.
 *
 * Node outputs get generated unique names unless the caller passes one, so graph code reads as
 * a chain of calls that each return the name of the tensor they produce.
 */
export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly usedNames = new Set<string>();
  private nextNameSuffix = 0;

  constructor(private readonly graphName: string) {}

  addInput(name: string, elementType: TensorElementType, dims: Dimension[]): string {
    this.reserveName(name);
    this.inputs.push(toValueInfo(name, elementType, dims));
    return name;
  }

  /** Declares `name` as a graph output. Some node must produce a tensor of that name. */
  addOutput(name: string, elementType: TensorElementType, dims: Dimension[]): void {
    this.outputs.push(toValueInfo(name, elementType, dims));
  }

  /** Adds a float32 initializer stored as little-endian raw_data and returns its name. */
  addFloatInitializer(name: string, dims: number[], values: Float32Array | number[]): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    checkElementCount(name, dims, data.length);
    this.reserveName(name);
    this.initializers.push({ name, dims, dataType: DataType.FLOAT, rawData: toLittleEndianBytes(data) });
    return name;
  }

  /** Adds an int64 initializer stored as little-endian raw_data and returns its name. */
  addInt64Initializer(name: string, dims: number[], values: BigInt64Array | number[]): string {
    const data = values instanceof BigInt64Array ? values : BigInt64Array.from(values, (value) => BigInt(value));
    checkElementCount(name, dims, data.length);
    this.reserveName(name);
    this.initializers.push({ name, dims, dataType: DataType.INT64, rawData: toLittleEndianBytes(data) });
    return name;
  }

  /** Adds a float32 scalar (shape []) initializer, for constants that broadcast against any tensor. */
  addFloatScalar(name: string, value: number): string {
    return this.addFloatInitializer(name, [], [value]);
  }

  /**
   * Adds a node with one output and returns the output's name.
   * Pass `outputName` to give the output a fixed name, such as a graph output's.
   */
  addNode(
    opType: string,
    inputs: string[],
    options: { attributes?: Record<string, AttributeValue>; outputName?: string } = {},
  ): string {
    const output = options.outputName ?? this.uniqueName(opType);
    if (options.outputName !== undefined) {
      this.reserveName(output);
    }
    const attribute = Object.entries(options.attributes ?? {}).map(([name, value]) => toAttributeProto(name, value));
    this.nodes.push({
      opType,
      name: `${output}_node`,
      input: inputs,
      output: [output],
      attribute,
    });
    return output;
  }

  toModel(): onnx.ModelProto {
    return onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET_VERSION }],
      producerName: 'semantic-explorer-test-models',
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
  }

  /** Encodes the model as ONNX protobuf bytes, ready for `InferenceSession.create`. */
  encode(): Uint8Array {
    const encoded = onnx.ModelProto.encode(this.toModel()).finish();
    // protobufjs returns a Node Buffer that may be a view into a shared pool, so copy it into
    // a Uint8Array that owns its whole ArrayBuffer.
    return new Uint8Array(encoded);
  }

  private reserveName(name: string): void {
    if (this.usedNames.has(name)) {
      throw new Error(`tensor name ${name} is already used in graph ${this.graphName}`);
    }
    this.usedNames.add(name);
  }

  private uniqueName(prefix: string): string {
    let name: string;
    do {
      name = `${prefix}_${this.nextNameSuffix++}`;
    } while (this.usedNames.has(name));
    this.usedNames.add(name);
    return name;
  }
}

// ONNX raw_data is little-endian, so a big-endian host needs a byte swap first.
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function toLittleEndianBytes(values: Float32Array | BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  if (!HOST_IS_LITTLE_ENDIAN) {
    for (let offset = 0; offset < bytes.length; offset += values.BYTES_PER_ELEMENT) {
      bytes.subarray(offset, offset + values.BYTES_PER_ELEMENT).reverse();
    }
  }
  return bytes;
}

/**
 * Creates a mulberry32 pseudo-random generator: the same seed always yields the same sequence
 * of numbers in [0, 1), so models built from random weights are reproducible.
 */
export function createSeededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills a Float32Array with values drawn uniformly from [-scale, scale). */
export function randomFloat32Array(length: number, scale: number, random: () => number): Float32Array {
  const values = new Float32Array(length);
  for (let index = 0; index < length; index++) {
    values[index] = (random() * 2 - 1) * scale;
  }
  return values;
}
