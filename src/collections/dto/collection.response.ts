import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CollectionFileEntity, FileStage } from 'src/collections/collection-file.entity';
import { CollectionEntity } from 'src/collections/collection.entity';

export class CollectionResponse {
  @ApiProperty() id: string;
  @ApiProperty() title: string;
  @ApiPropertyOptional({ nullable: true }) details: string | null;
  @ApiProperty({ type: [String] }) tags: string[];
  @ApiProperty() is_public: boolean;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export function toCollectionResponse(entity: CollectionEntity): CollectionResponse {
  return {
    id: entity.id,
    title: entity.title,
    details: entity.details,
    tags: entity.tags,
    is_public: entity.isPublic,
    created_at: entity.createdAt.toISOString(),
    updated_at: entity.updatedAt.toISOString(),
  };
}

export class CollectionFileResponse {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() size: number;
  @ApiProperty({ description: 'Detected from the file content (magic bytes), not from its name' }) content_type: string;
  @ApiProperty() sha256: string;
  @ApiProperty({ enum: FileStage }) stage: FileStage;
  @ApiPropertyOptional({ nullable: true, description: 'Why the file failed, when stage is failed' })
  stage_reason: string | null;
  @ApiProperty() stage_changed_at: string;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

/** Pipeline stage of a file; `embedding` and `embedded` are derived from its chunks' vectors. */
export interface EffectiveStage {
  stage: FileStage;
  reason: string | null;
  changedAt: Date;
}

export function toCollectionFileResponse(entity: CollectionFileEntity, stage: EffectiveStage): CollectionFileResponse {
  return {
    id: entity.id,
    name: entity.name,
    size: entity.size,
    content_type: entity.contentType,
    sha256: entity.sha256,
    stage: stage.stage,
    stage_reason: stage.reason,
    stage_changed_at: stage.changedAt.toISOString(),
    created_at: entity.createdAt.toISOString(),
    updated_at: entity.updatedAt.toISOString(),
  };
}

export class UploadedFileResult {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['created', 'replaced', 'unchanged'] }) status: 'created' | 'replaced' | 'unchanged';
  @ApiProperty() content_type: string;
  @ApiProperty() size: number;
  @ApiPropertyOptional({ description: 'For unchanged files: the file that already has this content' })
  duplicate_of?: string;
}

export class FailedUpload {
  @ApiProperty() name: string;
  @ApiProperty() code: string;
  @ApiProperty() error: string;
}

export class UploadResponse {
  @ApiProperty({ type: [UploadedFileResult] }) completed: UploadedFileResult[];
  @ApiProperty({ type: [FailedUpload] }) failed: FailedUpload[];
}
