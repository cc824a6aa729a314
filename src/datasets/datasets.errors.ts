export enum DatasetErrorCode {
  NotFound = 'dataset_not_found',
  ItemNotFound = 'dataset_item_not_found',
}
