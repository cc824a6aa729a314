import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface UploadFile {
  name: string;
  content: Buffer | string;
}

/** A thin HTTP client of the REST API, as a user's script would call it. */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async request<T = any>(method: string, route: string, body?: unknown, expectedStatus?: number): Promise<T> {
    const response = await fetch(`${this.baseUrl}${route}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = text.length > 0 && (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
    const expected = expectedStatus ?? (response.ok ? response.status : 200);
    if (response.status !== expected) {
      throw new Error(`${method} ${route} returned ${response.status}, expected ${expected}: ${text.slice(0, 500)}`);
    }
    return parsed as T;
  }

  get<T = any>(route: string, expectedStatus?: number) {
    return this.request<T>('GET', route, undefined, expectedStatus);
  }

  post<T = any>(route: string, body?: unknown, expectedStatus?: number) {
    return this.request<T>('POST', route, body ?? {}, expectedStatus);
  }

  delete(route: string, expectedStatus = 204) {
    return this.request('DELETE', route, undefined, expectedStatus);
  }

  async upload(collectionId: string, files: UploadFile[]): Promise<{ completed: any[]; failed: any[] }> {
    const form = new FormData();
    for (const file of files) {
      const bytes = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : file.content;
      form.append('files', new Blob([new Uint8Array(bytes)]), file.name);
    }
    const response = await fetch(`${this.baseUrl}/api/collections/${collectionId}/files`, { method: 'POST', body: form });
    const text = await response.text();
    if (response.status !== 201 && response.status !== 200) throw new Error(`upload returned ${response.status}: ${text}`);
    return JSON.parse(text);
  }

  /** Creates a collection wired to a dataset, a hashing embedder and a dataset transform. */
  async createPipeline(label: string, chunking = { chunk_size: 600, chunk_overlap: 60 }) {
    const collection = await this.post('/api/collections', { title: `${label} files` }, 201);
    const dataset = await this.post('/api/datasets', { title: `${label} chunks` }, 201);
    const embedder = await this.post('/api/embedders', { name: `${label} hashing`, provider: 'hashing', dimensions: 384, batch_size: 32 }, 201);
    const collectionTransform = await this.post(
      '/api/collection-transforms',
      { title: `${label} extraction`, collection_id: collection.id, dataset_id: dataset.id, job_config: { chunking } },
      201,
    );
    const datasetTransform = await this.post(
      '/api/dataset-transforms',
      { title: `${label} embedding`, source_dataset_id: dataset.id, embedder_ids: [embedder.id] },
      201,
    );
    return {
      collection,
      dataset,
      embedder,
      collectionTransform,
      datasetTransform,
      embeddedDatasetId: datasetTransform.embedded_datasets[0].id as string,
    };
  }

  async files(collectionId: string): Promise<any[]> {
    const page = await this.get(`/api/collections/${collectionId}/files?limit=1000`);
    return page.items;
  }

  /** Waits until every file of the collection is embedded or failed. */
  async waitForSettled(collectionId: string, timeoutMs = 90_000): Promise<any[]> {
    const deadline = Date.now() + timeoutMs;
    let files: any[] = [];
    while (Date.now() < deadline) {
      files = await this.files(collectionId);
      if (files.length > 0 && files.every((file) => file.stage === 'embedded' || file.stage === 'failed')) return files;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    throw new Error(`files not settled: ${JSON.stringify(files.map((file) => [file.name, file.stage, file.stage_reason]))}`);
  }

  async search(embeddedDatasetId: string, query: string, limit = 5, filters?: Record<string, string>) {
    const response = await this.post('/api/search', { query, embedded_dataset_ids: [embeddedDatasetId], limit, filters }, 200);
    return response.results[0] as { matches: any[]; error?: string };
  }
}

export function corpusFile(corpusDir: string, name: string): UploadFile {
  return { name, content: readFileSync(path.join(corpusDir, name)) };
}
