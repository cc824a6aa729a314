export enum EmbeddedDatasetErrorCode {
  NotFound = 'embedded_dataset_not_found',
}
