import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { ILike, Repository } from 'typeorm';
import { NotFoundError } from 'src/common/app-error';
import { Owner } from 'src/common/owner';
import { Page, rejectNullFields } from 'src/common/validation';
import { CollectionEntity } from 'src/collections/collection.entity';
import { CollectionErrorCode } from 'src/collections/collections.errors';
import { CreateCollectionDto, UpdateCollectionDto } from 'src/collections/dto/create-collection.dto';
import { escapeLike } from 'src/embedders/embedders.service';

@Injectable()
export class CollectionsService {
  constructor(@InjectRepository(CollectionEntity) private readonly collections: Repository<CollectionEntity>) {}

  async create(owner: Owner, dto: CreateCollectionDto): Promise<CollectionEntity> {
    return this.collections.save(
      this.collections.create({
        ownerId: owner.id,
        title: dto.title,
        details: dto.details ?? null,
        tags: dto.tags ?? [],
        isPublic: dto.is_public ?? false,
      }),
    );
  }

  async list(owner: Owner, limit: number, offset: number, search?: string): Promise<Page<CollectionEntity>> {
    const where = search ? { ownerId: owner.id, title: ILike(`%${escapeLike(search)}%`) } : { ownerId: owner.id };
    const [items, total] = await this.collections.findAndCount({ where, order: { createdAt: 'DESC' }, take: limit, skip: offset });
    return { items, total_count: total, limit, offset };
  }

  async get(owner: Owner, id: string): Promise<CollectionEntity> {
    const collection = await this.collections.findOneBy({ id, ownerId: owner.id });
    if (!collection) throw new NotFoundError(CollectionErrorCode.NotFound, `collection ${id} not found`);
    return collection;
  }

  async update(owner: Owner, id: string, dto: UpdateCollectionDto): Promise<CollectionEntity> {
    rejectNullFields(dto, ['title', 'tags', 'is_public']);
    const collection = await this.get(owner, id);
    if (dto.title !== undefined) collection.title = dto.title;
    if (dto.details !== undefined) collection.details = dto.details;
    if (dto.tags !== undefined) collection.tags = dto.tags;
    if (dto.is_public !== undefined) collection.isPublic = dto.is_public;
    return this.collections.save(collection);
  }

  async touch(id: string): Promise<void> {
    await this.collections.update({ id }, { updatedAt: new Date() });
  }

  async deleteRow(owner: Owner, id: string): Promise<void> {
    await this.collections.delete({ id, ownerId: owner.id });
  }
}
