export enum DatasetTransformErrorCode {
  NotFound = 'dataset_transform_not_found',
  EmbedderMismatch = 'embedder_mismatch',
}
