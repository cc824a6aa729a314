import { createHash, randomUUID } from 'node:crypto';
import { FileHandle, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { HubApiError, ListFileEntry, listFiles, modelInfo } from '@huggingface/hub';
import { Logger } from '@nestjs/common';
import { describeFetchError } from 'src/common/fetch-errors';
import { hubRepoFolder } from 'src/inference/model-files';
import { MODEL_ID_PATTERN } from 'src/inference/model-id';

export interface HubSource {
  /** Hub or mirror base URL, for example an Artifactory remote for huggingface.co. */
  endpoint: string;
  /** Secret: never log it. */
  token?: string;
  cacheDir: string;
  /** Deadline in seconds for downloading all of the model's files together, 1800 by default. */
  timeoutSecs?: number;
}

/** Limits on waiting for the hub, in seconds. Fractions are allowed. */
export interface HubTimeouts {
  /** Time for one metadata call (the model info, or the whole file listing) to finish, 30 by default. */
  metadataTimeoutSecs?: number;
  /** Time a file download may go without receiving a byte before it is aborted, 60 by default. */
  stallTimeoutSecs?: number;
}

/** A download failure whose message already names the endpoint, the model and the file. */
export class ModelDownloadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelDownloadError';
  }
}

const DEFAULT_TIMEOUT_SECS = 1800;
const DEFAULT_METADATA_TIMEOUT_SECS = 30;
const DEFAULT_STALL_TIMEOUT_SECS = 60;

// Files the inference role reads, by name. Weights in other formats (safetensors, OpenVINO,
// quantised ONNX variants) and other files are skipped, so a download fetches one graph
// instead of the whole repository, and a hostile listing cannot add files.
const MODEL_FILE_PATTERN =
  /^((config|modules|tokenizer|tokenizer_config|special_tokens_map|sentence_bert_config|config_sentence_transformers)\.json|\d+_[A-Za-z]+\/config\.json|(onnx\/)?model\.onnx(_data)?)$/;
// Stale temporary files (from a process killed mid-download) older than this are removed.
const STALE_TEMPORARY_MS = 10 * 60_000;

// A git commit id. The hub's `sha` becomes a folder name, so nothing else is accepted.
const COMMIT_PATTERN = /^[0-9a-f]{40}$/;

// Git LFS object ids are the SHA-256 of the file content.
const LFS_OID_PATTERN = /^[0-9a-f]{64}$/;

// locateModel treats a snapshot folder that contains tokenizer.json as complete, so that file is
// written last. A process killed midway then leaves a folder that locateModel skips.
const COMPLETION_MARKER = 'tokenizer.json';

const logger = new Logger('ModelDownload');

interface DownloadContext {
  modelId: string;
  endpoint: string;
  token?: string;
}

interface FileLimits {
  /** Epoch milliseconds by which every file must be written. */
  deadline: number;
  timeoutSecs: number;
  stallTimeoutSecs: number;
}

/**
 * Downloads the files a model needs from a Hugging Face hub (or a mirror of one) into the
 * hub cache layout, pins `refs/main` to the downloaded commit and returns the snapshot folder.
 * Files are plain files under `snapshots/<commit>`, each written under a temporary name and
 * renamed when complete, and `refs/main` is written only after every file is in place.
 *
 * Throws HubApiError when the hub rejects the model info or file listing (status 404 for a
 * missing repository), and ModelDownloadError for everything else, timeouts included.
 * No message contains `source.token`.
 */
export async function downloadModel(modelId: string, source: HubSource, timeouts: HubTimeouts = {}): Promise<string> {
  const context: DownloadContext = { modelId, endpoint: source.endpoint, token: source.token };
  if (!MODEL_ID_PATTERN.test(modelId)) {
    throw new ModelDownloadError(`Cannot download ${JSON.stringify(modelId)}: it is not a valid Hugging Face model id`);
  }
  const timeoutSecs = positiveSeconds('timeoutSecs', source.timeoutSecs, DEFAULT_TIMEOUT_SECS);
  const metadataTimeoutSecs = positiveSeconds('metadataTimeoutSecs', timeouts.metadataTimeoutSecs, DEFAULT_METADATA_TIMEOUT_SECS);
  const stallTimeoutSecs = positiveSeconds('stallTimeoutSecs', timeouts.stallTimeoutSecs, DEFAULT_STALL_TIMEOUT_SECS);

  const commit = await fetchCommit(context, metadataTimeoutSecs);
  const entries = await callHub(context, `Listing the files of ${modelId} at ${source.endpoint}`, metadataTimeoutSecs, async (hubFetch) => {
    const listed: ListFileEntry[] = [];
    const repo = { type: 'model' as const, name: modelId };
    for await (const entry of listFiles({ repo, revision: commit, recursive: true, hubUrl: source.endpoint, fetch: hubFetch })) {
      listed.push(entry);
    }
    return listed;
  });
  const files = selectModelFiles(context, entries);

  const repoDir = join(source.cacheDir, hubRepoFolder(modelId));
  const snapshotDir = resolve(repoDir, 'snapshots', commit);
  const limits: FileLimits = { deadline: Date.now() + timeoutSecs * 1000, timeoutSecs, stallTimeoutSecs };
  // A failed download leaves its finished files but no tokenizer.json, so lookups skip the
  // folder and the next attempt overwrites it. Nothing is deleted on failure, because another
  // process sharing the cache may have completed the same snapshot meanwhile.
  await mkdir(snapshotDir, { recursive: true });
  await removeStaleTemporaries(context, snapshotDir);
  for (const entry of files) {
    await downloadIntoSnapshot(context, commit, entry, snapshotDir, limits);
  }

  await writeAtomically(join(repoDir, 'refs', 'main'), commit);
  return snapshotDir;
}

function positiveSeconds(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new ModelDownloadError(`${name} must be a positive number of seconds, got ${value}`);
  }
  return value;
}

async function fetchCommit(context: DownloadContext, timeoutSecs: number): Promise<string> {
  const { modelId, endpoint } = context;
  const info = await callHub(context, `Fetching the model info of ${modelId} from ${endpoint}`, timeoutSecs, (hubFetch) =>
    modelInfo({ name: modelId, hubUrl: endpoint, additionalFields: ['sha'], fetch: hubFetch }),
  );
  const commit = (info as { sha?: unknown }).sha;
  if (typeof commit !== 'string' || !COMMIT_PATTERN.test(commit)) {
    const printable = typeof commit === 'string' ? JSON.stringify(commit.slice(0, 100)) : String(commit);
    throw new ModelDownloadError(
      redact(context, `The hub at ${endpoint} returned an invalid commit id ${printable} for ${modelId}: expected 40 lowercase hex digits`),
    );
  }
  return commit;
}

/**
 * Keeps the listed files that the inference role reads, with tokenizer.json last. Rejects the
 * listing when such a path could leave the snapshot folder or tokenizer.json is missing.
 */
function selectModelFiles(context: DownloadContext, entries: ListFileEntry[]): ListFileEntry[] {
  const byPath = new Map<string, ListFileEntry>();
  for (const entry of entries) {
    if (entry?.type !== 'file' || typeof entry.path !== 'string' || !MODEL_FILE_PATTERN.test(entry.path)) continue;
    if (!isPlainRelativePath(entry.path)) {
      throw new ModelDownloadError(
        redact(context, `The hub at ${context.endpoint} listed an unsafe file path ${JSON.stringify(entry.path)} for ${context.modelId}`),
      );
    }
    byPath.set(entry.path, entry);
  }

  const marker = byPath.get(COMPLETION_MARKER);
  if (!marker) {
    throw new ModelDownloadError(redact(context, `${context.modelId} at ${context.endpoint} has no ${COMPLETION_MARKER}`));
  }
  byPath.delete(COMPLETION_MARKER);
  return [...byPath.values(), marker];
}

/** Tests whether `path` is a relative path of plain names, without `.` or `..` segments, backslashes or NUL. */
function isPlainRelativePath(path: string): boolean {
  if (path.includes('\\') || path.includes('\0')) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/**
 * Runs one metadata call with `hubFetch`, which adds the token and aborts the call after
 * `timeoutSecs`. Errors are rethrown with a message that names the action.
 */
async function callHub<T>(
  context: DownloadContext,
  action: string,
  timeoutSecs: number,
  call: (hubFetch: typeof fetch) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutSecs * 1000);
  // @huggingface/hub follows the `Link` header of paged listings. A URL on another origin
  // would receive the token and let the hub point this service at any address, so it is rejected.
  const origin = new URL(context.endpoint).origin;
  const hubFetch: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin !== origin) {
      return Promise.reject(new ModelDownloadError(redact(context, `${action} failed: the hub sent a link to another origin (${url.origin}), which is rejected`)));
    }
    return fetch(input, { ...init, headers: withAuthorization(context, init?.headers), signal: controller.signal });
  };

  try {
    return await call(hubFetch);
  } catch (error) {
    if (timedOut) throw new ModelDownloadError(redact(context, `${action} timed out after ${timeoutSecs} s`));
    throw wrapError(context, action, error);
  } finally {
    clearTimeout(timer);
  }
}

// The token is sent by this module instead of @huggingface/hub, so tokens of mirrors that do
// not start with `hf_` work too. Node 20.20's fetch (undici 6.24) drops the header when a
// redirect leads to another origin.
function withAuthorization(context: DownloadContext, headers?: ConstructorParameters<typeof Headers>[0]): Headers {
  const merged = new Headers(headers);
  if (context.token) merged.set('Authorization', `Bearer ${context.token}`);
  return merged;
}

/**
 * Streams one file from `resolve/<commit>/<path>` into the snapshot folder. The download is
 * aborted when no bytes arrive for `stallTimeoutSecs` or the model's deadline passes, and a
 * file whose size or LFS SHA-256 differs from the listing is rejected.
 */
async function downloadIntoSnapshot(
  context: DownloadContext,
  commit: string,
  entry: ListFileEntry,
  snapshotDir: string,
  limits: FileLimits,
): Promise<void> {
  const { modelId, endpoint } = context;
  const action = `Downloading ${entry.path} of ${modelId} from ${endpoint}`;
  const target = resolve(snapshotDir, entry.path);
  if (!target.startsWith(snapshotDir + sep)) {
    throw new ModelDownloadError(redact(context, `${action} failed: the path leaves the snapshot folder ${snapshotDir}`));
  }
  await mkdir(dirname(target), { recursive: true });
  const temporary = join(dirname(target), `.${basename(target)}.${randomUUID()}.incomplete`);
  const url = `${endpoint}/${modelId}/resolve/${commit}/${entry.path.split('/').map(encodeURIComponent).join('/')}`;

  const controller = new AbortController();
  let timeoutReason: string | undefined;
  const abortWith = (reason: string) => () => {
    timeoutReason = reason;
    controller.abort();
  };
  const deadlineTimer = setTimeout(
    abortWith(`the model's files did not finish within ${limits.timeoutSecs} s`),
    Math.max(0, limits.deadline - Date.now()),
  );
  const stallTimer = setTimeout(abortWith(`no data arrived for ${limits.stallTimeoutSecs} s`), limits.stallTimeoutSecs * 1000);

  let file: FileHandle | undefined;
  try {
    const response = await fetch(url, { headers: withAuthorization(context), signal: controller.signal });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new ModelDownloadError(redact(context, `${action} failed with HTTP ${response.status} ${response.statusText}`));
    }

    file = await open(temporary, 'wx');
    const digest = entry.lfs && LFS_OID_PATTERN.test(entry.lfs.oid) ? createHash('sha256') : undefined;
    let received = 0;
    const reader = response.body?.getReader();
    for (;;) {
      stallTimer.refresh();
      const chunk = reader ? await reader.read() : { done: true as const, value: undefined };
      if (chunk.done) break;
      received += chunk.value.byteLength;
      if (typeof entry.size === 'number' && received > entry.size) {
        throw new ModelDownloadError(redact(context, `${action} failed: received more than the ${entry.size} bytes the listing states`));
      }
      digest?.update(chunk.value);
      await file.write(chunk.value);
    }
    await file.close();
    file = undefined;

    if (typeof entry.size === 'number' && received !== entry.size) {
      throw new ModelDownloadError(redact(context, `${action} failed: received ${received} bytes, but the listing states ${entry.size}`));
    }
    if (digest && digest.digest('hex') !== entry.lfs!.oid) {
      throw new ModelDownloadError(redact(context, `${action} failed: the content does not match the listed SHA-256 ${entry.lfs!.oid}`));
    }
    await rename(temporary, target);
  } catch (error) {
    await file?.close().catch(() => undefined);
    await rm(temporary, { force: true });
    if (timeoutReason) throw new ModelDownloadError(redact(context, `${action} timed out: ${timeoutReason}`));
    throw wrapError(context, action, error);
  } finally {
    clearTimeout(deadlineTimer);
    clearTimeout(stallTimer);
  }
}

/** Removes `.incomplete` files older than STALE_TEMPORARY_MS; younger ones may belong to another process. */
async function removeStaleTemporaries(context: DownloadContext, snapshotDir: string): Promise<void> {
  const names = await readdir(snapshotDir, { recursive: true }).catch(() => [] as string[]);
  for (const name of names.filter((candidate) => candidate.endsWith('.incomplete'))) {
    const path = join(snapshotDir, name);
    try {
      if (Date.now() - (await stat(path)).mtimeMs > STALE_TEMPORARY_MS) await rm(path, { force: true });
    } catch (error) {
      logger.warn({ model: context.modelId, file: path, err: describeFetchError(error) }, 'removing a stale temporary file failed');
    }
  }
}

async function writeAtomically(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomUUID()}.incomplete`;
  await writeFile(temporary, content);
  await rename(temporary, path);
}

/**
 * Returns an error whose message names the action and the cause. HubApiError keeps its class
 * and status, because the registry reports status 404 as a missing model. The hub's own error
 * body may echo the request, so the original error is not attached to a HubApiError.
 */
function wrapError(context: DownloadContext, action: string, error: unknown): Error {
  if (error instanceof ModelDownloadError) return error;
  if (error instanceof HubApiError) {
    const message = redact(context, `${action} failed with HTTP ${error.statusCode}: ${error.message}`);
    return new HubApiError(error.url, error.statusCode, error.requestId, message);
  }
  return new ModelDownloadError(redact(context, `${action} failed: ${describeFetchError(error)}`), { cause: error });
}

/** Replaces the token in `text`, because a hub may echo request headers in its error bodies. */
function redact(context: DownloadContext, text: string): string {
  return context.token ? text.split(context.token).join('[redacted]') : text;
}
