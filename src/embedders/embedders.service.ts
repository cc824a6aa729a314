import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { ILike, Repository } from 'typeorm';
import { ConflictError, NotFoundError } from 'src/common/app-error';
import { Owner } from 'src/common/owner';
import { Page, rejectNullFields } from 'src/common/validation';
import { CreateEmbedderDto } from 'src/embedders/dto/create-embedder.dto';
import { UpdateEmbedderDto } from 'src/embedders/dto/update-embedder.dto';
import { Embedder } from 'src/embedders/embedder';
import { EmbedderEntity, EmbedderProvider } from 'src/embedders/embedder.entity';
import { EmbedderErrorCode } from 'src/embedders/embedders.errors';
import { HashingEmbedder } from 'src/embedders/hashing/hashing.embedder';
import { CohereEmbedder } from 'src/embedders/providers/cohere.embedder';
import { ProviderEmbedderOptions, ProviderRuntime } from 'src/embedders/providers/http-embedder';
import { InternalEmbedder } from 'src/embedders/providers/internal.embedder';
import { OpenAiEmbedder } from 'src/embedders/providers/openai.embedder';
import { AdaptiveConcurrency } from 'src/embedders/resilience/adaptive-concurrency';
import { CircuitBreaker } from 'src/embedders/resilience/circuit-breaker';
import { PipelineConfig } from 'src/config/app-config';
import { InvalidInputError } from 'src/common/app-error';
import { SecretSealer } from 'src/platform/crypto/secret-sealer';

@Injectable()
export class EmbeddersService {
  private readonly runtimes = new Map<string, ProviderRuntime>();

  constructor(
    @InjectRepository(EmbedderEntity) private readonly embedders: Repository<EmbedderEntity>,
    private readonly sealer: SecretSealer,
    private readonly pipeline: PipelineConfig,
  ) {}

  async create(owner: Owner, dto: CreateEmbedderDto): Promise<EmbedderEntity> {
    const entity = this.embedders.create({
      ownerId: owner.id,
      name: dto.name,
      provider: dto.provider,
      dimensions: dto.dimensions,
      batchSize: dto.batch_size,
      maxInputTokens: dto.max_input_tokens,
      config: dto.config ?? {},
      isPublic: dto.is_public ?? false,
      baseUrl: dto.base_url ?? null,
      model: dto.model ?? null,
      truncateStrategy: dto.truncate_strategy ?? 'end',
      apiKeySealed: dto.api_key ? this.sealer.seal(dto.api_key) : null,
    });
    checkProviderSettings(entity);
    return this.embedders.save(entity);
  }

  async list(owner: Owner, limit: number, offset: number, search?: string): Promise<Page<EmbedderEntity>> {
    const where = search ? { ownerId: owner.id, name: ILike(`%${escapeLike(search)}%`) } : { ownerId: owner.id };
    const [items, total] = await this.embedders.findAndCount({ where, order: { createdAt: 'DESC' }, take: limit, skip: offset });
    return { items, total_count: total, limit, offset };
  }

  async get(owner: Owner, id: string): Promise<EmbedderEntity> {
    const embedder = await this.embedders.findOneBy({ id, ownerId: owner.id });
    if (!embedder) throw new NotFoundError(EmbedderErrorCode.NotFound, `embedder ${id} not found`);
    return embedder;
  }

  /** Loads several embedders of one owner; every id must exist. */
  async getMany(ownerId: string, ids: string[]): Promise<EmbedderEntity[]> {
    if (ids.length === 0) return [];
    ids = ids.map((id) => id.toLowerCase());
    const found = await this.embedders.findBy(ids.map((id) => ({ id, ownerId })));
    const missing = ids.filter((id) => !found.some((embedder) => embedder.id === id));
    if (missing.length > 0) throw new NotFoundError(EmbedderErrorCode.NotFound, `embedder ${missing.join(', ')} not found`);
    return ids.map((id) => found.find((embedder) => embedder.id === id)!);
  }

  async update(owner: Owner, id: string, dto: UpdateEmbedderDto): Promise<EmbedderEntity> {
    rejectNullFields(dto, ['name', 'batch_size', 'max_input_tokens', 'config', 'is_public']);
    const embedder = await this.get(owner, id);
    if (dto.name !== undefined) embedder.name = dto.name;
    if (dto.batch_size !== undefined) embedder.batchSize = dto.batch_size;
    if (dto.max_input_tokens !== undefined) embedder.maxInputTokens = dto.max_input_tokens;
    if (dto.config !== undefined) embedder.config = dto.config;
    if (dto.is_public !== undefined) embedder.isPublic = dto.is_public;
    if (dto.base_url !== undefined) embedder.baseUrl = dto.base_url;
    if (dto.truncate_strategy !== undefined) embedder.truncateStrategy = dto.truncate_strategy;
    // An empty string removes the stored key; a value replaces it.
    if (dto.api_key !== undefined && dto.api_key !== null) embedder.apiKeySealed = dto.api_key ? this.sealer.seal(dto.api_key) : null;
    checkProviderSettings(embedder);
    return this.embedders.save(embedder);
  }

  async delete(owner: Owner, id: string): Promise<void> {
    await this.get(owner, id);
    const [{ count }] = await this.embedders.query(
      'SELECT count(*)::int AS count FROM embedded_datasets WHERE embedder_id = $1',
      [id],
    );
    if (count > 0) {
      throw new ConflictError(
        EmbedderErrorCode.InUse,
        `embedder ${id} is used by ${count} embedded dataset(s); delete or change those dataset transforms first`,
      );
    }
    await this.embedders.delete({ id, ownerId: owner.id });
  }

  /**
   * Builds the client that turns texts into vectors for this embedder row. Clients of one
   * provider endpoint share a circuit breaker and a concurrency limit, so an outage slows every
   * job that uses it instead of each one finding out on its own.
   */
  instantiate(embedder: EmbedderEntity): Embedder {
    if (embedder.provider === EmbedderProvider.Hashing) return new HashingEmbedder({ dimensions: embedder.dimensions });

    const baseUrl = embedder.provider === EmbedderProvider.Internal ? (embedder.baseUrl ?? this.pipeline.inferenceUrl) : embedder.baseUrl!;
    const options: ProviderEmbedderOptions = {
      baseUrl,
      model: embedder.model ?? '',
      dimensions: embedder.dimensions,
      apiKey: embedder.apiKeySealed ? this.sealer.open(embedder.apiKeySealed) : undefined,
      batchSize: embedder.batchSize,
      maxInputTokens: embedder.maxInputTokens,
      truncation: embedder.truncateStrategy,
    };
    const runtime = this.runtimeFor(`${embedder.provider} ${baseUrl}`);
    switch (embedder.provider) {
      case EmbedderProvider.Internal:
        return new InternalEmbedder(options, runtime);
      case EmbedderProvider.OpenAi:
        return new OpenAiEmbedder(options, runtime);
      case EmbedderProvider.Cohere:
        return new CohereEmbedder(options, runtime);
      default:
        throw new NotFoundError('embedder_provider_unknown', `embedder provider "${String(embedder.provider)}" is not available`);
    }
  }

  /** Embeds a sample text and reports what came back, so a misconfigured embedder shows before a run. */
  async test(owner: Owner, id: string): Promise<{ success: boolean; dimensions: number | null; latency_ms: number; message: string }> {
    const embedder = await this.get(owner, id);
    const started = Date.now();
    try {
      const [vector] = await this.instantiate(embedder).embed(['Semantic Explorer checks this embedder with a short sentence.'], 'query');
      const latency = Date.now() - started;
      const matches = vector.length === embedder.dimensions;
      return {
        success: matches,
        dimensions: vector.length,
        latency_ms: latency,
        message: matches ? 'embedder answered' : `embedder returned ${vector.length} dimensions, configured ${embedder.dimensions}`,
      };
    } catch (error) {
      return { success: false, dimensions: null, latency_ms: Date.now() - started, message: error instanceof Error ? error.message : String(error) };
    }
  }

  private runtimeFor(endpoint: string): ProviderRuntime {
    let runtime = this.runtimes.get(endpoint);
    if (!runtime) {
      runtime = {
        circuitBreaker: new CircuitBreaker({ name: endpoint }),
        concurrency: new AdaptiveConcurrency({ maxConcurrency: PROVIDER_MAX_CONCURRENCY }),
      };
      this.runtimes.set(endpoint, runtime);
    }
    return runtime;
  }
}

// Requests in flight to one provider endpoint from this process, before any 503 lowers it.
const PROVIDER_MAX_CONCURRENCY = 4;

export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (match) => `\\${match}`);
}

/** Remote providers need a model, and openai and cohere an endpoint; hashing needs neither. */
function checkProviderSettings(embedder: EmbedderEntity): void {
  if (embedder.provider === EmbedderProvider.Hashing) return;
  if (!embedder.model) {
    throw new InvalidInputError('embedder_model_missing', `provider ${embedder.provider} needs a model, e.g. "text-embedding-3-small"`);
  }
  if ((embedder.provider === EmbedderProvider.OpenAi || embedder.provider === EmbedderProvider.Cohere) && !embedder.baseUrl) {
    throw new InvalidInputError('embedder_base_url_missing', `provider ${embedder.provider} needs base_url, e.g. https://api.openai.com/v1`);
  }
}
