import { HubApiError } from '@huggingface/hub';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { AppError, InvalidInputError, NotFoundError, UnavailableError } from 'src/common/app-error';
import { InferenceConfig } from 'src/config/app-config';
import { BatchingQueue } from 'src/inference/batching-queue';
import { EmbeddingModel, LoadedInferenceModel, RerankerModel } from 'src/inference/loaded-models';
import { ModelDescriptor, ModelKind, describeModel, findIncompleteFolder, locateModel } from 'src/inference/model-files';
import { downloadModel } from 'src/inference/model-download';
import { EncodedInput } from 'src/inference/model-tokenizer';
import { inferenceMetrics } from 'src/platform/observability/metrics';

const PRELOAD_RETRY_MS = 30_000;
// A model that failed to load is not loaded again for this long: loading a large broken model
// on every request would burn CPU and flood the log.
const FAILURE_COOLDOWN_MS = 10_000;
// Failures kept for the model listing; with INFERENCE_ALLOWED_MODELS='*' clients choose the ids.
const MAX_RECORDED_FAILURES = 100;
// Metric label of requests for models that are neither allowed by name nor loaded, so that
// client-chosen ids cannot add time series without limit.
const OTHER_MODELS_LABEL = 'other';

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
// Limitation: loaded models stay loaded until the process ends; there is no eviction, so with
// INFERENCE_ALLOWED_MODELS='*' clients can load every model on disk into memory.
@Injectable()
export class ModelRegistry implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ModelRegistry.name);
  private readonly loading = new Map<string, Promise<ServedModel>>();
  private readonly served = new Map<string, ServedModel>();
  private readonly failures = new Map<string, { error: unknown; message: string; at: number }>();
  private preloadTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly config: InferenceConfig) {}

  onApplicationBootstrap(): void {
    if (this.config.modelPath && !existsSync(this.config.modelPath)) {
      this.logger.warn({ model_path: this.config.modelPath }, 'INFERENCE_MODEL_PATH does not exist; models are looked up under HF_HOME only');
    }
    void this.preload();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.preloadTimer);
    const models = [...this.served.values()];
    this.served.clear();
    await Promise.allSettled(models.map(({ model }) => model.release()));
  }

  /** Returns whether every preloaded model is loaded. */
  isReady(): boolean {
    return this.config.preloadModels.every((id) => this.served.has(id));
  }

  /** Describes which preloaded models are missing and why, for the readiness report. */
  describeUnreadiness(): string {
    const missing = this.config.preloadModels.filter((id) => !this.served.has(id)).map((id) => this.statusOf(id));
    return missing.map((model) => (model.error ? `${model.id} failed: ${model.error}` : `${model.id} is ${model.status}`)).join('; ');
  }

  /** Returns the model id as a metric label when it is allowed by name or loaded, else `other`. */
  metricLabel(id: string): string {
    const named = Array.isArray(this.config.allowedModels) && this.config.allowedModels.includes(id);
    return named || this.served.has(id) ? id : OTHER_MODELS_LABEL;
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
        new InvalidInputError(
          'model_not_allowed',
          `Model ${id} is not allowed on this inference service; INFERENCE_ALLOWED_MODELS (default: the INFERENCE_PRELOAD_MODELS list) names the models it serves`,
          { model: id },
        ),
      );
    }
    const failure = this.failures.get(id);
    if (failure && Date.now() - failure.at < FAILURE_COOLDOWN_MS && !this.loading.has(id)) {
      return Promise.reject(failure.error);
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
      if (descriptor.assumedPipeline) {
        this.logger.warn(
          { model: id, dir: descriptor.dir },
          'model folder has no modules.json; assuming mean pooling with normalisation, which is wrong for CLS-pooled models such as BGE',
        );
      }
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
      this.logger.error({ model: id, err: error }, 'loading model failed');
      const reported =
        error instanceof AppError && error.kind !== 'invalid'
          ? error
          : new UnavailableError('model_load_failed', `Loading model ${id} failed: ${this.hidePaths(message)}`, { model: id }, { cause: error });
      this.recordFailure(id, reported);
      throw reported;
    }
  }

  private async findModel(id: string): Promise<ModelDescriptor> {
    const paths = { modelPath: this.config.modelPath, hubCacheDir: this.config.hubCacheDir, hfHome: this.config.hfHome };
    let dir = await locateModel(id, paths);
    if (!dir && this.config.downloadEndpoint) {
      const endpoint = this.config.downloadEndpoint;
      this.logger.log({ model: id, endpoint }, 'downloading model');
      try {
        dir = await downloadModel(id, {
          endpoint,
          token: this.config.hfToken,
          cacheDir: this.config.hubCacheDir,
          timeoutSecs: this.config.downloadTimeoutSecs,
        });
      } catch (error) {
        if (error instanceof HubApiError && error.statusCode === 404) {
          throw new NotFoundError('model_not_found', `Model ${id} was not found locally nor at ${endpoint}`, { model: id });
        }
        throw error;
      }
    }
    if (!dir) {
      // Paths go to the log only: clients of the service have no business knowing its folders.
      const incomplete = await findIncompleteFolder(id, paths);
      if (incomplete) {
        this.logger.warn({ model: id, dir: incomplete }, 'model folder has no tokenizer.json');
        throw new NotFoundError('model_not_found', `Model ${id} has a folder without tokenizer.json; the service log names the folder`, {
          model: id,
        });
      }
      this.logger.warn({ model: id, searched: [paths.modelPath, paths.hubCacheDir, paths.hfHome].filter(Boolean) }, 'model not found');
      throw new NotFoundError(
        'model_not_found',
        `Model ${id} was not found in INFERENCE_MODEL_PATH or HF_HOME, and downloads are off (set HF_ENDPOINT, without HF_HUB_OFFLINE, to allow them)`,
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
    const failure = this.failures.get(id);
    return failure ? { id, status: 'failed', error: failure.message } : { id, status: 'not_loaded' };
  }

  /** Replaces the configured folders in a message sent to clients by their variable names; the log keeps the paths. */
  private hidePaths(message: string): string {
    const folders: Array<[string | undefined, string]> = [
      [this.config.modelPath, '$INFERENCE_MODEL_PATH'],
      [this.config.hubCacheDir, '$HF_HUB_CACHE'],
      [this.config.hfHome, '$HF_HOME'],
    ];
    return folders.reduce((text, [folder, name]) => (folder ? text.split(folder).join(name) : text), message);
  }

  private recordFailure(id: string, error: AppError): void {
    this.failures.delete(id);
    this.failures.set(id, { error, message: error.message, at: Date.now() });
    if (this.failures.size > MAX_RECORDED_FAILURES) {
      const oldest = this.failures.keys().next().value as string;
      this.failures.delete(oldest);
    }
  }
}
