import { register } from 'prom-client';
import { RunningApp, startApp } from 'src/main';
import { startQdrantDouble, QdrantDouble } from 'src/testing/qdrant-double/qdrant-double';
import { ApiClient, corpusFile } from './support/api-client';
import { CORPUS_DIR, TestEnvironment } from './support/test-environment';

jest.setTimeout(240_000);

const FILES = ['md-pdfplumber-readme-tables-code.md', 'html-news-article-scripts-styles-nav-boilerplate.html', 'pdf-two-column-arxiv-dpr-paper.pdf'];
const QUERIES = [
  'extract tables from a PDF page',
  'Belarusian military readiness check',
  'dense passage retrieval with a dual encoder',
];

interface Ranked {
  file: string;
  score: number;
}

/** Indexes the same files with one vector store and returns the top matches of each query. */
async function searchWith(label: string, env: Record<string, string>): Promise<Ranked[][]> {
  const environment = new TestEnvironment(label);
  await environment.createDatabase();
  let running: RunningApp | undefined;
  try {
    running = await startApp(environment.config({ ROLE: 'all', ...env }));
    const api = new ApiClient(running.url.replace('[::1]', '127.0.0.1'));
    const pipeline = await api.createPipeline(label);
    await api.upload(pipeline.collection.id, FILES.map((name) => corpusFile(CORPUS_DIR, name)));
    const files = await api.waitForSettled(pipeline.collection.id);
    expect(files.map((file) => file.stage)).toEqual(FILES.map(() => 'embedded'));
    const results: Ranked[][] = [];
    for (const query of QUERIES) {
      const result = await api.search(pipeline.embeddedDatasetId, query, 5);
      expect(result.error).toBeUndefined();
      results.push(result.matches.map((match) => ({ file: match.source_file, score: match.score })));
    }
    return results;
  } finally {
    await running?.shutdown();
    await environment.destroy();
    // The next app of this process registers the default metrics again.
    register.clear();
  }
}

describe('vector stores', () => {
  let qdrant: QdrantDouble;

  beforeAll(async () => {
    qdrant = await startQdrantDouble();
  });

  afterAll(async () => {
    await qdrant?.close();
  });

  it('return the same results from Postgres and Qdrant', async () => {
    const postgres = await searchWith('vspg', { VECTOR_STORE: 'postgres' });
    const viaQdrant = await searchWith('vsqd', { VECTOR_STORE: 'qdrant', QDRANT_URL: qdrant.url });

    expect(qdrant.requests.some((request) => request.path.includes('/points/query'))).toBe(true);
    for (let index = 0; index < QUERIES.length; index += 1) {
      expect(viaQdrant[index].map((match) => match.file)).toEqual(postgres[index].map((match) => match.file));
      viaQdrant[index].forEach((match, rank) => expect(match.score).toBeCloseTo(postgres[index][rank].score, 4));
    }
    expect(postgres[1][0].file).toBe(FILES[1]);
  });
});
