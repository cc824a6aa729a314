import { Logger } from '@nestjs/common';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { EncodedInput } from 'src/inference/model-tokenizer';

export type ExecutionDevice = 'cpu' | 'cuda';

export interface SessionOptions {
  cudaEnabled: boolean;
  cudaDeviceId: number;
  /** 0 lets ONNX Runtime choose. */
  intraOpThreads: number;
}

export interface OpenedSession {
  session: InferenceSession;
  device: ExecutionDevice;
}

const logger = new Logger('OnnxSession');

/**
 * Opens an ONNX Runtime session, on the CUDA execution provider when enabled. When CUDA
 * cannot start (no GPU, no CUDA libraries, or an onnxruntime-node installed without its CUDA
 * files), the session runs on the CPU and a warning names the cause.
 */
export async function openSession(modelFile: string, options: SessionOptions): Promise<OpenedSession> {
  const base: InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    ...(options.intraOpThreads > 0 ? { intraOpNumThreads: options.intraOpThreads } : {}),
  };
  if (options.cudaEnabled) {
    try {
      const session = await InferenceSession.create(modelFile, {
        ...base,
        executionProviders: [{ name: 'cuda', deviceId: options.cudaDeviceId }],
      });
      return { session, device: 'cuda' };
    } catch (error) {
      logger.warn(
        { model_file: modelFile, cuda_device_id: options.cudaDeviceId, err: error },
        'CUDA execution provider unavailable; running this model on the CPU',
      );
    }
  }
  const session = await InferenceSession.create(modelFile, { ...base, executionProviders: ['cpu'] });
  return { session, device: 'cpu' };
}

/** Input tensors for a padded batch, limited to the inputs the graph declares. */
export function buildInputFeeds(session: InferenceSession, inputs: EncodedInput[], padId: number): Record<string, Tensor> {
  const batch = inputs.length;
  const sequence = Math.max(1, ...inputs.map((input) => input.ids.length));
  const ids = new BigInt64Array(batch * sequence).fill(BigInt(padId));
  const mask = new BigInt64Array(batch * sequence);
  const types = new BigInt64Array(batch * sequence);

  inputs.forEach((input, row) => {
    const offset = row * sequence;
    for (let position = 0; position < input.ids.length; position++) {
      ids[offset + position] = BigInt(input.ids[position]);
      mask[offset + position] = 1n;
      types[offset + position] = BigInt(input.typeIds[position]);
    }
  });

  const available: Record<string, BigInt64Array> = { input_ids: ids, attention_mask: mask, token_type_ids: types };
  const feeds: Record<string, Tensor> = {};
  for (const name of session.inputNames) {
    const data = available[name];
    if (!data) {
      throw new Error(`the ONNX graph expects an input named "${name}"; supported inputs are ${Object.keys(available).join(', ')}`);
    }
    feeds[name] = new Tensor('int64', data, [batch, sequence]);
  }
  return feeds;
}
