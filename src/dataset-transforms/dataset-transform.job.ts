import { IsString, IsUUID } from 'class-validator';

/** Embeds one batch of chunks for one embedded dataset with the exact embedder named here. */
export class DatasetTransformJob {
  @IsUUID() job_id: string;
  @IsUUID() batch_id: string;
  @IsUUID() dataset_transform_id: string;
  @IsUUID() embedded_dataset_id: string;
  @IsUUID() embedder_id: string;
  @IsString() owner_id: string;
}
