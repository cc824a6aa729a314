import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, InvalidInputError, NotFoundError, UnavailableError } from 'src/common/app-error';
import { assertValidBlobKey, assertValidBlobPrefix, assertValidMaxBytes } from 'src/platform/storage/blob-key';
import { BlobStore, PutBlobOptions, StoredBlob } from 'src/platform/storage/blob-store';
import { BlobDigestTransform, blobTooLargeError, readBlobToBuffer, toReadable } from 'src/platform/storage/blob-streams';
import { measureStorageOperation, StorageMetrics, StorageOperation } from 'src/platform/storage/storage.metrics';

export interface S3BlobStoreOptions {
  /** Custom endpoint URL for S3-compatible servers (MinIO, s3rver). Omit for AWS. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Static credentials. Give both or neither; with neither the SDK's default provider chain applies. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Address the bucket as a path segment (`host/bucket/key`), as most S3-compatible servers need. */
  forcePathStyle: boolean;
}

// S3 accepts parts of 5 MiB and more. 8 MiB parts with 4 in flight keep at most 32 MiB of a
// body in memory per upload.
const UPLOAD_PART_SIZE_BYTES = 8 * 1024 * 1024;
const UPLOAD_QUEUE_SIZE = 4;
// ListObjectsV2 pages and DeleteObjects requests both hold at most 1,000 keys.
const DELETE_BATCH_SIZE = 1000;

/** Blob store on an S3 bucket, or on a server that speaks the S3 API. */
export class S3BlobStore extends BlobStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly endpointLabel: string;

  constructor(
    options: S3BlobStoreOptions,
    private readonly metrics?: StorageMetrics,
  ) {
    super();
    if (Boolean(options.accessKeyId) !== Boolean(options.secretAccessKey)) {
      throw new InvalidInputError(
        'invalid_s3_credentials',
        'S3 credentials are incomplete: set both the access key id and the secret access key, or neither to use the default AWS credential chain.',
      );
    }
    const config: S3ClientConfig = {
      region: options.region,
      forcePathStyle: options.forcePathStyle,
    };
    if (options.endpoint) {
      config.endpoint = options.endpoint;
    }
    if (options.accessKeyId && options.secretAccessKey) {
      config.credentials = { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey };
    }
    this.client = new S3Client(config);
    this.bucket = options.bucket;
    this.endpointLabel = options.endpoint ?? `the AWS endpoint of region ${options.region}`;
  }

  put(key: string, body: Readable | Buffer, options: PutBlobOptions = {}): Promise<StoredBlob> {
    return this.measure('put', key, async () => {
      assertValidBlobKey(key);
      assertValidMaxBytes(options.maxBytes);
      const { maxBytes } = options;
      if (Buffer.isBuffer(body) && maxBytes !== undefined && body.length > maxBytes) {
        throw blobTooLargeError(key, maxBytes, body.length);
      }

      const source = toReadable(body);
      const digest = new BlobDigestTransform(key, maxBytes);
      let sourceError: unknown;
      source.once('error', (error) => {
        sourceError = error;
      });
      // Settles with the failure instead of rejecting, so it can be awaited after the upload.
      const piping = pipeline(source, digest).then(
        () => undefined,
        (error: unknown) => error,
      );

      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: digest, ContentType: options.contentType },
        partSize: UPLOAD_PART_SIZE_BYTES,
        queueSize: UPLOAD_QUEUE_SIZE,
        leavePartsOnError: false,
      });
      let uploadError: unknown;
      try {
        await upload.done();
      } catch (error) {
        uploadError = error;
        digest.destroy();
      }
      const pipingError = await piping;

      // The digest stream's own error is the reliable sign of an oversized body: lib-storage
      // may report the failed abort of the multipart upload in its place.
      if (digest.limitExceeded && maxBytes !== undefined) {
        throw blobTooLargeError(key, maxBytes);
      }
      if (sourceError !== undefined) {
        throw sourceError;
      }
      const failure = uploadError ?? pipingError;
      if (failure !== undefined) {
        throw failure;
      }
      return { key, ...digest.digest() };
    });
  }

  get(key: string): Promise<Readable> {
    return this.measure('get', key, async () => {
      assertValidBlobKey(key);
      const { body } = await this.getObject(key);
      return body;
    });
  }

  getBuffer(key: string, maxBytes?: number): Promise<Buffer> {
    return this.measure('get_buffer', key, async () => {
      assertValidBlobKey(key);
      assertValidMaxBytes(maxBytes);
      const { body, size } = await this.getObject(key);
      if (maxBytes !== undefined && size !== undefined && size > maxBytes) {
        body.destroy();
        throw blobTooLargeError(key, maxBytes, size);
      }
      return readBlobToBuffer(body, key, maxBytes);
    });
  }

  stat(key: string): Promise<{ size: number } | null> {
    return this.measure('stat', key, async () => {
      assertValidBlobKey(key);
      try {
        const response = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
        return { size: response.ContentLength ?? 0 };
      } catch (error) {
        if (isObjectNotFound(error)) {
          return null;
        }
        throw error;
      }
    });
  }

  delete(key: string): Promise<void> {
    return this.measure('delete', key, async () => {
      assertValidBlobKey(key);
      // S3 returns 204 for a missing key too, so no special case is needed.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    });
  }

  deletePrefix(prefix: string): Promise<number> {
    return this.measure('delete_prefix', prefix, async () => {
      assertValidBlobPrefix(prefix);
      let deleted = 0;
      let continuationToken: string | undefined;
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            MaxKeys: DELETE_BATCH_SIZE,
            ContinuationToken: continuationToken,
          }),
        );
        const keys = (page.Contents ?? []).map((object) => object.Key).filter((key): key is string => Boolean(key));
        if (keys.length > 0) {
          deleted += await this.deleteBatch(keys, prefix, deleted);
        }
        continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (continuationToken);
      return deleted;
    });
  }

  checkHealth(): Promise<void> {
    return this.measure('check_health', this.bucket, async () => {
      try {
        await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      } catch (error) {
        throw new UnavailableError(
          'blob_store_unavailable',
          `S3 bucket "${this.bucket}" at ${this.endpointLabel} is not usable: ${describeS3Error(error)}. Check the endpoint, bucket name and credentials.`,
          { bucket: this.bucket, endpoint: this.endpointLabel },
          { cause: error },
        );
      }
    });
  }

  /** Creates the bucket unless it exists already. Used on first start and by tests. */
  ensureBucket(): Promise<void> {
    return this.measure('ensure_bucket', this.bucket, async () => {
      try {
        await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
        return;
      } catch (error) {
        if (!isObjectNotFound(error) && errorName(error) !== 'NoSuchBucket') {
          throw error;
        }
      }
      const region = await this.client.config.region();
      try {
        await this.client.send(
          new CreateBucketCommand({
            Bucket: this.bucket,
            // us-east-1 is S3's default location and rejects an explicit constraint.
            CreateBucketConfiguration: region === 'us-east-1' ? undefined : { LocationConstraint: region as never },
          }),
        );
      } catch (error) {
        // Another process may have created it between the check and the create.
        if (errorName(error) !== 'BucketAlreadyOwnedByYou') {
          throw error;
        }
      }
    });
  }

  /** Releases the HTTP connections of the S3 client. */
  close(): void {
    this.client.destroy();
  }

  private async getObject(key: string): Promise<{ body: Readable; size: number | undefined }> {
    let response;
    try {
      response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (isObjectNotFound(error)) {
        throw new NotFoundError('blob_not_found', `Blob "${key}" was not found in S3 bucket "${this.bucket}".`, { key });
      }
      throw error;
    }
    if (!(response.Body instanceof Readable)) {
      throw new Error(`S3 GetObject for key "${key}" returned a body that is not a Node.js stream`);
    }
    return { body: response.Body, size: response.ContentLength };
  }

  private async deleteBatch(keys: string[], prefix: string, deletedBefore: number): Promise<number> {
    const response = await this.client.send(
      new DeleteObjectsCommand({
        Bucket: this.bucket,
        Delete: { Objects: keys.map((key) => ({ Key: key })), Quiet: true },
      }),
    );
    const errors = response.Errors ?? [];
    if (errors.length > 0) {
      const first = errors[0];
      throw new UnavailableError(
        'blob_store_unavailable',
        `S3 failed to delete ${errors.length} of ${keys.length} blobs under prefix "${prefix}" in bucket "${this.bucket}", first "${first.Key}": ${first.Code} ${first.Message}. ${deletedBefore + keys.length - errors.length} blobs were deleted; retry to delete the rest.`,
        { prefix, bucket: this.bucket, failedKeys: errors.map((error) => error.Key) },
      );
    }
    return keys.length;
  }

  private measure<T>(operation: StorageOperation, target: string, action: () => Promise<T>): Promise<T> {
    return measureStorageOperation(this.metrics, operation, async () => {
      try {
        return await action();
      } catch (error) {
        throw this.toAppError(error, operation, target);
      }
    });
  }

  /**
   * Turns S3 and network failures into UnavailableError, so job handlers retry them.
   * A missing bucket is a configuration fault and is reported the same way.
   */
  private toAppError(error: unknown, operation: StorageOperation, target: string): unknown {
    if (error instanceof AppError || !isSdkError(error)) {
      return error;
    }
    return new UnavailableError(
      'blob_store_unavailable',
      `S3 ${operation.replace('_', ' ')} of "${target}" in bucket "${this.bucket}" at ${this.endpointLabel} failed: ${describeS3Error(error)}`,
      { operation, target, bucket: this.bucket, s3Error: errorName(error) },
      { cause: error },
    );
  }
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function httpStatusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** True for NoSuchKey and for a bodiless 404 (HEAD requests), but not for a missing bucket. */
function isObjectNotFound(error: unknown): boolean {
  const name = errorName(error);
  if (name === 'NoSuchBucket') {
    return false;
  }
  return name === 'NoSuchKey' || name === 'NotFound' || httpStatusOf(error) === 404;
}

/**
 * Returns whether `error` came from the SDK. The SDK attaches `$metadata` to service
 * errors and, in its retry middleware, to connection failures. Errors of the caller's
 * body stream have none.
 */
function isSdkError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && '$metadata' in error;
}

function describeS3Error(error: unknown): string {
  const name = errorName(error) ?? 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const status = httpStatusOf(error);
  const statusText = status === undefined ? '' : ` (HTTP ${status})`;
  return message && message !== name ? `${name}${statusText}: ${message}` : `${name}${statusText}`;
}
