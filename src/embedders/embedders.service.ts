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

@Injectable()
export class EmbeddersService {
  constructor(@InjectRepository(EmbedderEntity) private readonly embedders: Repository<EmbedderEntity>) {}

  async create(owner: Owner, dto: CreateEmbedderDto): Promise<EmbedderEntity> {
    return this.embedders.save(
      this.embedders.create({
        ownerId: owner.id,
        name: dto.name,
        provider: dto.provider,
        dimensions: dto.dimensions,
        batchSize: dto.batch_size,
        maxInputTokens: dto.max_input_tokens,
        config: dto.config ?? {},
        isPublic: dto.is_public ?? false,
      }),
    );
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

  /** Builds the client that turns texts into vectors for this embedder row. */
  instantiate(embedder: EmbedderEntity): Embedder {
    switch (embedder.provider) {
      case EmbedderProvider.Hashing:
        return new HashingEmbedder({ dimensions: embedder.dimensions });
      default:
        throw new NotFoundError('embedder_provider_unknown', `embedder provider "${String(embedder.provider)}" is not available`);
    }
  }
}

export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (match) => `\\${match}`);
}
