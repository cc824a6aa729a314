import { IsString, IsUUID } from 'class-validator';

/** Extracts and chunks one revision of one file for one collection transform. */
export class CollectionTransformJob {
  @IsUUID() job_id: string;
  @IsString() owner_id: string;
  @IsUUID() collection_transform_id: string;
  @IsUUID() file_id: string;
  @IsUUID() file_revision: string;
}
