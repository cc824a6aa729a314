export enum CollectionErrorCode {
  NotFound = 'collection_not_found',
  FileNotFound = 'collection_file_not_found',
  TransformNotFound = 'collection_transform_not_found',
  UnsupportedContentType = 'unsupported_content_type',
  UploadInvalid = 'upload_invalid',
  NameConflict = 'file_name_conflict',
}
