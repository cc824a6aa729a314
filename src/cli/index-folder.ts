import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from 'src/config/app-config';
import { startApp } from 'src/main';

/**
 * `npm run demo -- [folder] [--query "text" ...]`: starts every role in this process, indexes
 * the documents of a folder through the REST API, shows progress until every file is embedded
 * or failed, then runs searches and prints the best chunks with their sources.
 */

const DEFAULT_QUERIES = [
  'How does a worker recover after it is killed in the middle of a job?',
  'Which environment variables configure the database connection pool?',
  'How are documents split into chunks?',
];
const MAX_FILES = 500;
// With no stage change for this long, something outside this process is wrong (see the hint printed).
const STALL_TIMEOUT_MS = 3 * 60 * 1000;
const USAGE = `Usage: npm run demo -- [folder] [--query "text" ...]

Indexes every file of the folder (default: the bundled samples/) and prints the best chunks
for each query. Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/semantic_explorer),
NATS_URL, NATS_STREAM_PREFIX (default demo), DATA_DIR.`;

interface Arguments {
  folder: string;
  queries: string[];
}

function parseArguments(argv: string[]): Arguments {
  const queries: string[] = [];
  let folder: string | undefined;
  for (let index = 0; index < argv.length; index += 1) {
    if (argv[index] === '--help' || argv[index] === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (argv[index] === '--query') {
      const query = argv[index + 1];
      if (!query) throw new Error('--query needs a text, e.g. --query "termination notice period"');
      queries.push(query);
      index += 1;
    } else if (argv[index].startsWith('-')) {
      throw new Error(`unknown option ${argv[index]}\n\n${USAGE}`);
    } else {
      folder = argv[index];
    }
  }
  // npm runs scripts from the package root; INIT_CWD is where the user typed the command.
  const base = process.env.INIT_CWD ?? process.cwd();
  return { folder: folder ? path.resolve(base, folder) : path.join(__dirname, '../../../samples'), queries: queries.length > 0 ? queries : DEFAULT_QUERIES };
}

function listFiles(folder: string): string[] {
  const found: string[] = [];
  const visit = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.isFile() && statSync(full).size > 0) found.push(full);
      if (found.length >= MAX_FILES) return;
    }
  };
  visit(folder);
  return found.sort();
}

async function call<T = any>(baseUrl: string, method: string, route: string, body?: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route} failed with ${response.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  if (!existsSync(args.folder) || !statSync(args.folder).isDirectory()) {
    throw new Error(`folder not found: ${args.folder}\n\n${USAGE}`);
  }
  const files = listFiles(args.folder);
  if (files.length === 0) throw new Error(`no files found in ${args.folder}`);

  const config = loadConfig({ ROLE: 'all', PORT: '0', LOG_LEVEL: 'warn', ...process.env });
  console.log(`Starting Semantic Explorer (roles: ${config.roles.join(', ')})...`);
  const running = await startApp(config);
  const baseUrl = running.url.replace('[::1]', '127.0.0.1');

  try {
    const label = `${path.basename(args.folder)} ${new Date().toISOString().slice(0, 19).replace('T', ' ')}`.replace(/[^\p{L}\p{N}\s\-_.]/gu, '-');
    const collection = await call(baseUrl, 'POST', '/api/collections', { title: label });
    const dataset = await call(baseUrl, 'POST', '/api/datasets', { title: label });
    const embedder = await call(baseUrl, 'POST', '/api/embedders', { name: 'hashing 384', provider: 'hashing', dimensions: 384 });
    await call(baseUrl, 'POST', '/api/collection-transforms', {
      title: label,
      collection_id: collection.id,
      dataset_id: dataset.id,
      job_config: { chunking: { strategy: 'recursive_character', chunk_size: 1000, chunk_overlap: 100 } },
    });
    const transform = await call(baseUrl, 'POST', '/api/dataset-transforms', {
      title: label,
      source_dataset_id: dataset.id,
      embedder_ids: [embedder.id],
    });
    const embeddedDatasetId: string = transform.embedded_datasets[0].id;

    console.log(`Uploading ${files.length} file(s) from ${args.folder}`);
    for (let offset = 0; offset < files.length; offset += 20) {
      const form = new FormData();
      for (const file of files.slice(offset, offset + 20)) {
        form.append('files', new Blob([new Uint8Array(readFileSync(file))]), path.relative(args.folder, file));
      }
      const response = await fetch(`${baseUrl}/api/collections/${collection.id}/files`, { method: 'POST', body: form });
      const result = (await response.json()) as { failed?: Array<{ name: string; error: string }> };
      for (const failure of result.failed ?? []) console.log(`  rejected ${failure.name}: ${failure.error}`);
    }

    const started = Date.now();
    let lastLine = '';
    let lastChange = Date.now();
    for (;;) {
      const page = await call(baseUrl, 'GET', `/api/collections/${collection.id}/files?limit=1000`);
      const counts: Record<string, number> = {};
      for (const file of page.items) counts[file.stage] = (counts[file.stage] ?? 0) + 1;
      const line = Object.entries(counts)
        .map(([stage, count]) => `${stage}: ${count}`)
        .join(', ');
      if (line !== lastLine) {
        console.log(`  [${((Date.now() - started) / 1000).toFixed(1)} s] ${line}`);
        lastLine = line;
        lastChange = Date.now();
      }
      const settled = page.items.every((file: { stage: string }) => file.stage === 'embedded' || file.stage === 'failed');
      if (page.items.length > 0 && settled) {
        for (const file of page.items.filter((item: { stage: string }) => item.stage === 'failed')) {
          console.log(`  failed: ${file.name}: ${file.stage_reason}`);
        }
        break;
      }
      if (Date.now() - lastChange > STALL_TIMEOUT_MS) {
        throw new Error(
          `no file changed stage for ${STALL_TIMEOUT_MS / 60000} minutes. Another installation using the same ` +
            `NATS server and NATS_STREAM_PREFIX ("${config.nats.streamPrefix}") may be taking the jobs: set a different NATS_STREAM_PREFIX.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }

    const stats = await call(baseUrl, 'GET', `/api/embedded-datasets/${embeddedDatasetId}/stats`);
    console.log(`Indexed ${stats.chunks_embedded} chunks (${stats.points} vectors) in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    for (const query of args.queries) {
      const response = await call(baseUrl, 'POST', '/api/search', { query, embedded_dataset_ids: [embeddedDatasetId], limit: 3 });
      console.log(`\nQuery: ${query}`);
      for (const [rank, match] of response.results[0].matches.entries()) {
        const page = match.metadata?.page ? `, page ${match.metadata.page}` : '';
        const excerpt = match.text.replace(/\s+/g, ' ').slice(0, 160);
        console.log(`  ${rank + 1}. ${match.score.toFixed(3)}  ${match.source_file}${page}\n     ${excerpt}...`);
      }
    }
  } finally {
    await running.shutdown();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
