import { spawn } from 'node:child_process';

export interface ProcessResult {
  exitCode: number | null;
  /** Signal that ended the process, when it did not exit by itself. */
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  /** The first `MAX_STDERR_BYTES` of standard error, decoded as UTF-8. */
  stderr: string;
}

export interface RunProcessOptions {
  /** Bytes written to standard input, which is then closed. */
  input: Buffer;
  timeoutMs: number;
  maxStdoutBytes: number;
}

export class ProcessTimeoutError extends Error {}

export class ProcessOutputLimitError extends Error {}

const MAX_STDERR_BYTES = 64 * 1024;

/**
 * Runs a program without a shell, feeding `input` on stdin. Kills it with SIGKILL and
 * rejects with `ProcessTimeoutError` after `timeoutMs`, or with `ProcessOutputLimitError`
 * once stdout exceeds `maxStdoutBytes`. A program that cannot start rejects with the spawn
 * error, whose `code` is `ENOENT` when it is not installed.
 */
export function runProcess(command: string, args: string[], options: RunProcessOptions): Promise<ProcessResult> {
  return new Promise<ProcessResult>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], shell: false });
    const stdoutChunks: Buffer[] = [];
    const stderrChunks: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrBytes = 0;
    let settled = false;

    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };

    const timer = setTimeout(
      () => fail(new ProcessTimeoutError(`${command} did not finish within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );

    child.on('error', fail);
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > options.maxStdoutBytes) {
        fail(new ProcessOutputLimitError(`${command} wrote more than ${options.maxStdoutBytes} bytes`));
        return;
      }
      stdoutChunks.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderrBytes < MAX_STDERR_BYTES) {
        stderrChunks.push(chunk.subarray(0, MAX_STDERR_BYTES - stderrBytes));
        stderrBytes += chunk.length;
      }
    });
    child.on('close', (exitCode, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        exitCode,
        signal,
        stdout: Buffer.concat(stdoutChunks),
        stderr: Buffer.concat(stderrChunks).toString('utf8'),
      });
    });

    // A program that rejects its input exits before reading all of it. The resulting EPIPE is
    // expected, because the exit code and stderr report the actual problem.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}
