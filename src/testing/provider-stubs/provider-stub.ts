import { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';

/** One request the stub received. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, or undefined when it was not JSON. */
  body: any;
}

/** Response plan for one request. Omitted fields fall back to a successful response. */
export interface StubBehaviour {
  /** Error status to return instead of embeddings. */
  status?: number;
  /** Error message in the provider's error body. */
  message?: string;
  /** Value of the `retry-after` header. */
  retryAfter?: string;
  /** Delay before the response, in milliseconds. */
  delayMs?: number;
  /** Length of the returned vectors instead of the requested or default one. */
  dimensions?: number;
}

export interface ProviderStubOptions {
  /** Length of returned vectors when the request does not name one. Default 8. */
  dimensions?: number;
  /** When set, requests without `Authorization: Bearer <apiKey>` get a 401. */
  apiKey?: string;
  /** When set, a text longer than this many characters gets a 400, as a model's context limit would. */
  maxInputChars?: number;
}

/**
 * Base of the local HTTP servers that speak a provider's wire format in tests. Each
 * request is recorded. The response follows `respondWith` when it returns a behaviour, else
 * the next queued behaviour, else it contains embeddings. Listens on 127.0.0.1 on a free port.
 */
export abstract class ProviderStub {
  readonly requests: RecordedRequest[] = [];
  /** Maximum number of requests in progress at one time. */
  maxInFlight = 0;
  /** Custom rule, consulted before the queue. Return undefined to fall through to the queue. */
  respondWith?: (request: RecordedRequest) => StubBehaviour | undefined;

  protected readonly options: ProviderStubOptions;
  private readonly queue: StubBehaviour[] = [];
  private inFlight = 0;
  private server: Server | undefined;

  constructor(options: ProviderStubOptions = {}) {
    this.options = options;
  }

  /** Path the stub serves, for example `/v1/embeddings`. Other paths get a 404. */
  protected abstract readonly path: string;

  /** Returns the texts of a request body, or an error message when the body is invalid. */
  protected abstract readTexts(body: any): string[] | { invalid: string };

  /** Returns the requested vector length, when the request names one. */
  protected requestedDimensions(_body: any): number | undefined {
    return undefined;
  }

  /** Builds the success body for the given request and vectors. */
  protected abstract successBody(body: any, vectors: number[][]): unknown;

  /** Builds the provider's error body. */
  protected abstract errorBody(status: number, message: string): unknown;

  /** Starts listening and returns the base URL, `http://127.0.0.1:<port>`. */
  async start(): Promise<string> {
    const server = createServer((request, response) => {
      void this.handle(request, response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) {
      return;
    }
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Makes the next `count` requests fail with `status`. */
  failNext(count: number, status: number, details: { message?: string; retryAfter?: string } = {}): this {
    return this.enqueue(count, { status, ...details });
  }

  /** Delays the responses to the next `count` requests by `delayMs`. */
  delayNext(count: number, delayMs: number): this {
    return this.enqueue(count, { delayMs });
  }

  /** Makes the next `count` requests return vectors of length `dimensions`. */
  wrongDimensionsNext(count: number, dimensions: number): this {
    return this.enqueue(count, { dimensions });
  }

  enqueue(count: number, behaviour: StubBehaviour): this {
    for (let i = 0; i < count; i += 1) {
      this.queue.push(behaviour);
    }
    return this;
  }

  /** Number of texts in each recorded request, in arrival order. */
  batchSizes(): number[] {
    return this.requests.map((request) => {
      const texts = this.readTexts(request.body);
      return Array.isArray(texts) ? texts.length : 0;
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const rawBody = await readBody(request);
      const recorded: RecordedRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: parseJson(rawBody),
      };
      this.requests.push(recorded);

      const behaviour = this.respondWith?.(recorded) ?? this.queue.shift() ?? {};
      if (behaviour.delayMs) {
        const delivered = await waitUnlessClosed(response, behaviour.delayMs);
        if (!delivered) {
          return;
        }
      }
      this.answer(recorded, behaviour, response);
    } finally {
      this.inFlight -= 1;
    }
  }

  private answer(request: RecordedRequest, behaviour: StubBehaviour, response: ServerResponse): void {
    if (request.method !== 'POST' || request.path !== this.path) {
      return this.sendError(response, 404, `no route for ${request.method} ${request.path}`);
    }
    if (this.options.apiKey && request.headers.authorization !== `Bearer ${this.options.apiKey}`) {
      return this.sendError(response, 401, 'invalid API key');
    }
    if (behaviour.status) {
      return this.sendError(response, behaviour.status, behaviour.message ?? defaultMessage(behaviour.status), behaviour.retryAfter);
    }

    const texts = this.readTexts(request.body);
    if (!Array.isArray(texts)) {
      return this.sendError(response, 400, texts.invalid);
    }
    const maxChars = this.options.maxInputChars;
    const tooLong = maxChars === undefined ? -1 : texts.findIndex((text) => text.length > maxChars);
    if (tooLong !== -1) {
      return this.sendError(response, 400, `input ${tooLong} is longer than the model's context of ${maxChars} characters`);
    }

    const dimensions = behaviour.dimensions ?? this.requestedDimensions(request.body) ?? this.options.dimensions ?? 8;
    const vectors = texts.map((text) => stubVector(text, dimensions));
    sendJson(response, 200, this.successBody(request.body, vectors));
  }

  private sendError(response: ServerResponse, status: number, message: string, retryAfter?: string): void {
    const headers: Record<string, string> = retryAfter === undefined ? {} : { 'retry-after': retryAfter };
    sendJson(response, status, this.errorBody(status, message), headers);
  }
}

/**
 * Returns the stub's deterministic vector for `text`. Element 0 is the text's length in
 * UTF-16 units, so tests can tell which text a vector belongs to. The rest come from a hash.
 */
export function stubVector(text: string, dimensions: number): number[] {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i += 1) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 16777619) >>> 0;
  }
  const vector = [text.length];
  for (let i = 1; i < dimensions; i += 1) {
    hash = Math.imul(hash ^ i, 16777619) >>> 0;
    vector.push((hash % 2000) / 1000 - 1);
  }
  return vector.slice(0, dimensions);
}

function defaultMessage(status: number): string {
  if (status === 429) {
    return 'rate limit reached, retry later';
  }
  if (status >= 500) {
    return 'the server had an error while processing the request';
  }
  return 'the request is invalid';
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Waits `ms`, or less when the client disconnects first. Returns false when it disconnected. */
function waitUnlessClosed(response: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      response.off('close', onClose);
      resolve(true);
    }, ms);
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    response.on('close', onClose);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.destroyed) {
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}
