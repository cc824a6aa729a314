import { Worker } from 'node:worker_threads';

export interface UnpdfPages {
  pages: string[];
  info: Record<string, unknown>;
}

/** Failure inside the worker: `name` is the pdf.js exception name, such as `PasswordException`. */
export class UnpdfFailure extends Error {
  constructor(
    readonly exceptionName: string,
    message: string,
  ) {
    super(message);
  }
}

export class UnpdfTextLimitError extends Error {}

export class UnpdfTimeoutError extends Error {}

// pdf.js runs in a worker thread for two reasons. First, `terminate()` stops a parser stuck
// in a loop, which a timer in this thread cannot do. Second, unpdf loads its pdf.js bundle
// with a dynamic `import()`, which works in a plain Node.js thread but not inside Jest's
// module sandbox. The worker code is plain JavaScript, so it runs the same under ts-jest and
// from the build output.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');

async function run() {
  const unpdf = require(workerData.unpdfPath);
  const pdf = await unpdf.getDocumentProxy(new Uint8Array(workerData.data), { verbosity: 0 });
  try {
    const pages = [];
    let totalChars = 0;
    for (let pageNumber = 1; pageNumber <= pdf.numPages; pageNumber += 1) {
      const page = await pdf.getPage(pageNumber);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items) {
        if (!('str' in item)) continue;
        text += item.str;
        if (item.hasEOL) text += '\\n';
      }
      totalChars += text.length;
      if (totalChars > workerData.maxTextChars) {
        return { kind: 'text_limit' };
      }
      pages.push(text);
      page.cleanup();
    }
    const meta = await pdf.getMetadata().catch(() => ({ info: {} }));
    return { kind: 'ok', pages, info: meta.info || {} };
  } finally {
    await pdf.destroy();
  }
}

run().then(
  (result) => parentPort.postMessage(result),
  (error) => parentPort.postMessage({
    kind: 'error',
    name: (error && error.name) || 'Error',
    message: String((error && error.message) || error),
  }),
);
`;

type WorkerReply =
  | { kind: 'ok'; pages: string[]; info: Record<string, unknown> }
  | { kind: 'text_limit' }
  | { kind: 'error'; name: string; message: string };

/**
 * Extracts the text of each page with unpdf (pdf.js) in a worker thread. Rejects with
 * `UnpdfFailure`, `UnpdfTextLimitError` past `maxTextChars`, or `UnpdfTimeoutError`.
 * Limitation: pdf.js returns text in content-stream order without layout analysis, so
 * multi-column pages can interleave columns where pdftotext would not.
 */
export function extractPagesWithUnpdf(data: Buffer, timeoutMs: number, maxTextChars: number): Promise<UnpdfPages> {
  const unpdfPath = require.resolve('unpdf');

  return new Promise<UnpdfPages>((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { unpdfPath, data, maxTextChars },
    });
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      outcome();
    };

    const timer = setTimeout(
      () => finish(() => reject(new UnpdfTimeoutError(`pdf.js did not finish within ${timeoutMs} ms`))),
      timeoutMs,
    );

    worker.on('message', (reply: WorkerReply) => {
      finish(() => {
        if (reply.kind === 'ok') {
          resolve({ pages: reply.pages, info: reply.info });
        } else if (reply.kind === 'text_limit') {
          reject(new UnpdfTextLimitError(`pdf.js text exceeds ${maxTextChars} characters`));
        } else {
          reject(new UnpdfFailure(reply.name, reply.message));
        }
      });
    });
    worker.on('error', (error) => finish(() => reject(new UnpdfFailure(error.name, error.message))));
    worker.on('exit', (code) =>
      finish(() => reject(new UnpdfFailure('WorkerExit', `pdf.js worker exited with code ${code} before replying`))),
    );
  });
}
