import { HubApiError } from '@huggingface/hub';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppError, InvalidInputError, NotFoundError, UnavailableError } from 'src/common/app-error';
import { InferenceConfig } from 'src/config/app-config';
import { BatchingQueue } from 'src/inference/batching-queue';
import { EmbeddingModel, LoadedInferenceModel, RerankerModel } from 'src/inference/loaded-models';
import { ModelDescriptor, ModelKind, describeModel, locateModel } from 'src/inference/model-files';
import { downloadModel } from 'src/inference/model-download';
import { EncodedInput } from 'src/inference/model-tokenizer';
import { inferenceMetrics } from 'src/platform/observability/metrics';

const PRELOAD_RETRY_MS = 30_000;

export interface ServedEmbeddingModel {
  model: EmbeddingModel;
  queue: BatchingQueue<EncodedInput, Float32Array>;
}

export interface ServedRerankerModel {
  model: RerankerModel;
  queue: BatchingQueue<EncodedInput, number>;
}

type ServedModel = ServedEmbeddingModel | ServedRerankerModel;

export interface ModelStatus {
  id: string;
  status: 'loaded' | 'loading' | 'not_loaded' | 'failed';
  kind?: ModelKind;
  device?: string;
  dimensions?: number;
  max_tokens?: number;
  pooling?: string;
  normalize?: boolean;
  error?: string;
}

/**
 * Loads ONNX models on demand and keeps them: from INFERENCE_MODEL_PATH, the hub cache under
 * HF_HOME or a plain folder under HF_HOME, else downloaded from HF_ENDPOINT when downloads are
 * allowed. Only ids in INFERENCE_ALLOWED_MODELS load. The preloaded models load in the
 * background at start-up; readiness waits for them.
 */
@Injectable()
export class ModelRegistry implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ModelRegistry.name);
  private readonly loading = new Map<string, Promise<ServedModel>>();
  private readonly served = new Map<string, ServedModel>();
  private readonly failures = new Map<string, string>();
  private preloadTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly config: InferenceConfig) {}

  onApplicationBootstrap(): void {
    void this.preload();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.preloadTimer);
    const models = [...this.served.values()];
    this.served.clear();
    await Promise.allSettled(models.map(({ model }) => model.release()));
  }

  /** Whether every preloaded model is loaded. */
  isReady(): boolean {
    return this.config.preloadModels.every((id) => this.served.has(id));
  }

  /** Allowed and loaded models with their state, for the model listing and readiness. */
  statuses(): ModelStatus[] {
    const ids = new Set([
      ...(this.config.allowedModels === '*' ? [] : this.config.allowedModels),
      ...this.config.preloadModels,
      ...this.served.keys(),
      ...this.loading.keys(),
    ]);
    return [...ids].sort().map((id) => this.statusOf(id));
  }

  async embeddingModel(id: string): Promise<ServedEmbeddingModel> {
    const served = await this.load(id);
    if (served.model.kind !== 'embedding') {
      throw new InvalidInputError('model_kind_mismatch', `Model ${id} is a reranker; use POST /api/rerank with it`, { model: id });
    }
    return served as ServedEmbeddingModel;
  }

  async rerankerModel(id: string): Promise<ServedRerankerModel> {
    const served = await this.load(id);
    if (served.model.kind !== 'reranker') {
      throw new InvalidInputError('model_kind_mismatch', `Model ${id} is an embedding model; use POST /api/embed with it`, {
        model: id,
      });
    }
    return served as ServedRerankerModel;
  }

  private async preload(): Promise<void> {
    const missing = this.config.preloadModels.filter((id) => !this.served.has(id));
    const results = await Promise.allSettled(missing.map((id) => this.load(id)));
    const failed = missing.filter((_, index) => results[index].status === 'rejected');
    if (failed.length > 0 && !this.stopped) {
      this.logger.error({ models: failed, retry_in_ms: PRELOAD_RETRY_MS }, 'preloading models failed; readiness stays false until they load');
      this.preloadTimer = setTimeout(() => void this.preload(), PRELOAD_RETRY_MS);
      this.preloadTimer.unref();
    } else if (missing.length > 0) {
      this.logger.log({ models: missing }, 'preloaded models are ready');
    }
  }

  private load(id: string): Promise<ServedModel> {
    const served = this.served.get(id);
    if (served) return Promise.resolve(served);
    if (this.config.allowedModels !== '*' && !this.config.allowedModels.includes(id)) {
      return Promise.reject(
        new InvalidInputError('model_not_allowed', `Model ${id} is not in INFERENCE_ALLOWED_MODELS of this inference service`, {
          model: id,
        }),
      );
    }

    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.open(id).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  private async open(id: string): Promise<ServedModel> {
    const started = Date.now();
    try {
      const descriptor = await this.findModel(id);
      const served = await this.instantiate(descriptor);
      this.served.set(id, served);
      this.failures.delete(id);
      inferenceMetrics.modelLoaded().labels(id, served.model.kind, served.model.device).set(1);
      this.logger.log(
        {
          model: id,
          kind: served.model.kind,
          device: served.model.device,
          dir: descriptor.dir,
          pooling: descriptor.kind === 'embedding' ? descriptor.pooling : undefined,
          normalize: descriptor.kind === 'embedding' ? descriptor.normalize : undefined,
          max_tokens: descriptor.maxLength,
          load_ms: Date.now() - started,
        },
        'model loaded',
      );
      return served;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.failures.set(id, message);
      this.logger.error({ model: id, err: error }, 'loading model failed');
      if (error instanceof AppError && error.kind !== 'invalid') throw error;
      throw new UnavailableError('model_load_failed', `Loading model ${id} failed: ${message}`, { model: id }, { cause: error });
    }
  }

  private async findModel(id: string): Promise<ModelDescriptor> {
    const paths = { modelPath: this.config.modelPath, hubCacheDir: this.config.hubCacheDir, hfHome: this.config.hfHome };
    let dir = await locateModel(id, paths);
    if (!dir && this.config.downloadEndpoint) {
      const endpoint = this.config.downloadEndpoint;
      this.logger.log({ model: id, endpoint }, 'downloading model');
      try {
        dir = await downloadModel(id, { endpoint, token: this.config.hfToken, cacheDir: this.config.hubCacheDir });
      } catch (error) {
        if (error instanceof HubApiError && error.statusCode === 404) {
          throw new NotFoundError('model_not_found', `Model ${id} was not found locally nor at ${endpoint}`, { model: id });
        }
        throw error;
      }
    }
    if (!dir) {
      const searched = [paths.modelPath, paths.hubCacheDir, paths.hfHome].filter(Boolean).join(', ');
      throw new NotFoundError(
        'model_not_found',
        `Model ${id} was not found in ${searched}, and downloads are off (set HF_ENDPOINT, without HF_HUB_OFFLINE, to allow them)`,
        { model: id },
      );
    }
    return describeModel(id, dir);
  }

  private async instantiate(descriptor: ModelDescriptor): Promise<ServedModel> {
    const sessionOptions = {
      cudaEnabled: this.config.cudaEnabled,
      cudaDeviceId: this.config.cudaDeviceId,
      intraOpThreads: this.config.intraOpThreads,
    };
    const queueOptions = { batchSize: this.config.runBatchSize, maxRequests: this.config.maxQueueDepth, modelId: descriptor.id };
    const runHistogram = inferenceMetrics.sessionRunDuration().labels(descriptor.id);

    if (descriptor.kind === 'reranker') {
      const model = await RerankerModel.load(descriptor, sessionOptions);
      model.clock.onRun = (seconds) => runHistogram.observe(seconds);
      return { model, queue: new BatchingQueue((pairs: EncodedInput[]) => model.run(pairs), queueOptions) };
    }
    const model = await EmbeddingModel.load(descriptor, sessionOptions);
    model.clock.onRun = (seconds) => runHistogram.observe(seconds);
    return { model, queue: new BatchingQueue((inputs: EncodedInput[]) => model.run(inputs), queueOptions) };
  }

  private statusOf(id: string): ModelStatus {
    const served = this.served.get(id);
    if (served) {
      const { model } = served;
      const embedding = model.kind === 'embedding' ? model : undefined;
      return {
        id,
        status: 'loaded',
        kind: model.kind,
        device: model.device,
        dimensions: embedding?.dimensions,
        max_tokens: model.descriptor.maxLength,
        pooling: embedding?.descriptor.pooling,
        normalize: embedding?.descriptor.normalize,
      };
    }
    if (this.loading.has(id)) return { id, status: 'loading' };
    const error = this.failures.get(id);
    return error ? { id, status: 'failed', error } : { id, status: 'not_loaded' };
  }
}
