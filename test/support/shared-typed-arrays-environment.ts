import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';

/*
 * Jest's node environment for suites that run onnxruntime-node.
 *
 * Test files run in a separate vm context, so `Float32Array` there is not the constructor that
 * native addons use. onnxruntime-node builds output tensors from arrays created in the main
 * context, and onnxruntime-common (loaded inside the test context) rejects them with
 * "A float32 tensor's data must be type of function Float32Array()" because its `instanceof`
 * check compares against the test context's constructor. jest-environment-node 30 already shares
 * Buffer, ArrayBuffer and Uint8Array with the main context for the same reason; this environment
 * shares the remaining typed array constructors too.
 */

const TYPED_ARRAY_NAMES = [
  'Int8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  // Missing in Node 20. onnxruntime-common uses it for float16 tensors where the runtime has it.
  'Float16Array',
];

export default class SharedTypedArraysEnvironment extends TestEnvironment {
  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    const mainGlobals = globalThis as unknown as Record<string, unknown>;
    for (const name of TYPED_ARRAY_NAMES) {
      if (name in mainGlobals) {
        this.global[name] = mainGlobals[name];
      }
    }
  }
}
