import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';

/** Ways a HubStub can misbehave. A stub built without any of them behaves like a working hub. */
export interface HubStubFaults {
  /** Sent as the commit id in model info in place of the real one. */
  sha?: string;
  /** Sent as the object id of every file in listings and paths-info, in place of the content hash. */
  oid?: string;
  /** Paths listed after the real files in every file listing, for example names with `..`. */
  extraEntries?: string[];
  /** Accepts every request and never responds. */
  neverRespond?: boolean;
  /** Sends the first `afterBytes` bytes of this file, then nothing more, and keeps the connection open. */
  stall?: { path: string; afterBytes: number };
  /** Sends this file one byte every `intervalMs`. */
  trickle?: { path: string; intervalMs: number };
  /** Sends the first `afterBytes` bytes of this file without a Content-Length, then ends the response. */
  truncate?: { path: string; afterBytes: number };
  /** Copies the request's Authorization header into error bodies, as a careless server might. */
  echoAuthorization?: boolean;
}

interface StubRepo {
  commit: string;
  files: Map<string, Buffer>;
}

/**
 * A Hugging Face hub on loopback that serves model folders through the endpoints
 * @huggingface/hub 2.17 calls: model info with its commit, the recursive file tree, paths-info,
 * and `resolve` downloads with byte ranges. Requests are recorded, so a test can tell whether a
 * model was downloaded. `faults` makes it misbehave the way a broken or hostile hub would.
 */
export class HubStub {
  readonly requests: Array<{ method: string; path: string; authorization?: string }> = [];
  private readonly repos = new Map<string, StubRepo>();
  private server?: Server;

  constructor(private readonly faults: HubStubFaults = {}) {}

  /** Serves every file under `dir` as repository `repoId` at a commit derived from the content. */
  addRepo(repoId: string, dir: string): void {
    const files = new Map<string, Buffer>();
    const walk = (current: string) => {
      for (const name of readdirSync(current)) {
        const path = join(current, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.set(relative(dir, path).split('\\').join('/'), readFileSync(path));
      }
    };
    walk(dir);
    const digest = createHash('sha1');
    for (const [path, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) digest.update(path).update(content);
    this.repos.set(repoId, { commit: digest.digest('hex'), files });
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Stops listening and closes open connections, including responses that were never finished. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://hub.local');
    const path = decodeURIComponent(url.pathname);
    this.requests.push({ method: request.method ?? 'GET', path, authorization: request.headers.authorization });
    if (this.faults.neverRespond) return;

    const body: Buffer[] = [];
    request.on('data', (chunk: Buffer) => body.push(chunk));
    request.on('end', () => {
      try {
        this.route(request, path, Buffer.concat(body), response);
      } catch (error) {
        sendJson(response, 500, { error: (error as Error).message + this.echo(request) });
      }
    });
  }

  private route(request: IncomingMessage, path: string, body: Buffer, response: ServerResponse): void {
    const info = /^\/api\/models\/(.+)\/revision\/([^/]+)$/.exec(path);
    if (info) {
      const repo = this.repoOr404(info[1], request, response);
      const sha = this.faults.sha ?? repo?.commit;
      if (repo) sendJson(response, 200, { _id: info[1], id: info[1], sha, private: false, siblings: this.siblings(repo) });
      return;
    }

    const tree = /^\/api\/models\/(.+)\/tree\/([^/]+)$/.exec(path);
    if (tree) {
      const repo = this.repoOr404(tree[1], request, response);
      if (!repo) return;
      const entries = [...repo.files].map(([file, content]) => this.entry(file, content));
      const extra = (this.faults.extraEntries ?? []).map((file) => this.entry(file, Buffer.from('{}')));
      sendJson(response, 200, [...entries, ...extra]);
      return;
    }

    const pathsInfo = /^\/api\/models\/(.+)\/paths-info\/([^/]+)$/.exec(path);
    if (pathsInfo && request.method === 'POST') {
      const repo = this.repoOr404(pathsInfo[1], request, response);
      if (!repo) return;
      const { paths } = JSON.parse(body.toString('utf8')) as { paths: string[] };
      const found = paths.filter((file) => repo.files.has(file));
      sendJson(response, 200, found.map((file) => ({ ...this.entry(file, repo.files.get(file)!), lastCommit: { id: repo.commit } })));
      return;
    }

    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (resolve) {
      const repo = this.repoOr404(resolve[1], request, response);
      if (!repo) return;
      const content = repo.files.get(resolve[3]);
      if (!content) {
        response.writeHead(404, { 'X-Error-Code': 'EntryNotFound', 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ error: `${resolve[3]} not found${this.echo(request)}` }));
        return;
      }
      response.setHeader('ETag', `"${createHash('sha1').update(content).digest('hex')}"`);
      response.setHeader('X-Repo-Commit', repo.commit);
      if (!this.sendFaultyFile(resolve[3], response, content)) sendRange(request, response, content);
      return;
    }
    sendJson(response, 404, { error: `no route for ${path}${this.echo(request)}` });
  }

  /** Sends `content` as the `stall`, `trickle` or `truncate` fault for `file` specifies. Returns false when none applies. */
  private sendFaultyFile(file: string, response: ServerResponse, content: Buffer): boolean {
    const { stall, trickle, truncate } = this.faults;
    if (stall?.path === file) {
      response.writeHead(200, { 'Content-Length': content.length, 'Content-Type': 'application/octet-stream' });
      response.write(content.subarray(0, stall.afterBytes));
      return true;
    }
    if (truncate?.path === file) {
      response.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      response.end(content.subarray(0, truncate.afterBytes));
      return true;
    }
    if (trickle?.path === file) {
      response.writeHead(200, { 'Content-Length': content.length, 'Content-Type': 'application/octet-stream' });
      let sent = 0;
      const timer = setInterval(() => {
        response.write(content.subarray(sent, sent + 1));
        sent += 1;
        if (sent >= content.length) {
          clearInterval(timer);
          response.end();
        }
      }, trickle.intervalMs);
      response.on('close', () => clearInterval(timer));
      return true;
    }
    return false;
  }

  private repoOr404(repoId: string, request: IncomingMessage, response: ServerResponse): StubRepo | undefined {
    const repo = this.repos.get(repoId);
    if (!repo) {
      response.writeHead(404, { 'X-Error-Code': 'RepoNotFound', 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ error: `Repository ${repoId} not found${this.echo(request)}` }));
    }
    return repo;
  }

  /** Returns the text that `echoAuthorization` appends to error messages, or an empty string without that fault. */
  private echo(request: IncomingMessage): string {
    return this.faults.echoAuthorization ? ` (request sent Authorization: ${request.headers.authorization ?? 'none'})` : '';
  }

  private siblings(repo: StubRepo) {
    return [...repo.files.keys()].map((rfilename) => ({ rfilename }));
  }

  private entry(file: string, content: Buffer) {
    const oid = this.faults.oid ?? createHash('sha1').update(content).digest('hex');
    return { type: 'file', path: file, size: content.length, oid };
  }
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(value));
}

/** Serves `Range: bytes=a-b` requests with 206 and Content-Range, as the hub file server does. */
function sendRange(request: IncomingMessage, response: ServerResponse, content: Buffer): void {
  const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
  if (!range) {
    response.writeHead(200, { 'Content-Length': content.length, 'Content-Type': 'application/octet-stream' });
    response.end(content);
    return;
  }
  const start = Number(range[1]);
  const end = range[2] === '' ? content.length - 1 : Math.min(Number(range[2]), content.length - 1);
  response.writeHead(206, {
    'Content-Range': `bytes ${start}-${end}/${content.length}`,
    'Content-Length': end - start + 1,
    'Content-Type': 'application/octet-stream',
  });
  response.end(content.subarray(start, end + 1));
}
