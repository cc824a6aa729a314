import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { downloadFileToCacheDir, listFiles, modelInfo } from '@huggingface/hub';
import { hubRepoFolder } from 'src/inference/model-files';

export interface HubSource {
  /** Hub or mirror base URL, for example an Artifactory remote for huggingface.co. */
  endpoint: string;
  /** Secret: never log it. */
  token?: string;
  cacheDir: string;
}

// Files the inference role reads. Weights in other formats (safetensors, OpenVINO, quantised
// ONNX variants) are skipped, so a download fetches one graph instead of the whole repository.
const WANTED_FILE = /^(([^/]+\.json)|(\d+_[^/]+\/config\.json)|(onnx\/model\.onnx(_data)?)|(model\.onnx(_data)?))$/;

/**
 * Downloads the files a model needs from a Hugging Face hub (or a mirror of one) into the
 * hub cache layout, pins `refs/main` to the downloaded commit and returns the snapshot folder.
 * @huggingface/hub ignores HF_ENDPOINT, so the endpoint is passed on every call.
 */
export async function downloadModel(modelId: string, source: HubSource): Promise<string> {
  const credentials = source.token ? { accessToken: source.token } : {};
  const info = await modelInfo({ name: modelId, hubUrl: source.endpoint, additionalFields: ['sha'], ...credentials });
  const commit = (info as { sha?: string }).sha;
  if (!commit) throw new Error(`hub at ${source.endpoint} returned no commit for ${modelId}`);

  const repo = { type: 'model' as const, name: modelId };
  const wanted: string[] = [];
  for await (const entry of listFiles({ repo, revision: commit, recursive: true, hubUrl: source.endpoint, ...credentials })) {
    if (entry.type === 'file' && WANTED_FILE.test(entry.path)) wanted.push(entry.path);
  }
  if (!wanted.includes('tokenizer.json')) {
    throw new Error(`${modelId} at ${source.endpoint} has no tokenizer.json`);
  }

  for (const path of wanted) {
    await downloadFileToCacheDir({ repo, path, revision: commit, cacheDir: source.cacheDir, hubUrl: source.endpoint, ...credentials });
  }

  const repoDir = join(source.cacheDir, hubRepoFolder(modelId));
  const refFile = join(repoDir, 'refs', 'main');
  await mkdir(dirname(refFile), { recursive: true });
  await writeFile(refFile, commit);
  return join(repoDir, 'snapshots', commit);
}
