export enum EmbedderErrorCode {
  NotFound = 'embedder_not_found',
  InUse = 'embedder_in_use',
}
