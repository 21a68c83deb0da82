/**
 * Running programs: always a file plus arguments (no shell), always with a
 * timeout that kills. Parsers get stdout strings from here, never a process.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

/** Options of one {@link Exec} call. */
export interface ExecOptions {
  /** Kill the program after this many milliseconds. Required. */
  timeoutMs: number;
  /** Extra environment variables, merged over the parent's. */
  env?: Record<string, string>;
  /** Bytes fed to standard input. */
  input?: string;
}

/** What a finished (or killed) program left behind. */
export interface ExecResult {
  /** Exit status; `null` when the program was killed by a signal. */
  exitCode: number | null;
  /** The signal that ended it, e.g. `SIGKILL`, or `null`. */
  signal: string | null;
  /** True when it ran past `timeoutMs` and was killed. */
  timedOut: boolean;
  /** Raw standard output bytes (decode leniently: drivers emit non-UTF-8). */
  stdout: Buffer;
  /** Standard error, decoded as UTF-8 with replacement. */
  stderr: string;
  /** Set when the program could not be started (ENOENT, EACCES). */
  spawnError: string | null;
  /** Wall time the call took, in milliseconds. */
  durationMs: number;
}

/** Runs `file` with `args`, never through a shell. Never throws. */
export type Exec = (
  file: string,
  args: readonly string[],
  options: ExecOptions,
) => Promise<ExecResult>;

/** Output beyond this many bytes per stream is cut off (64 MiB). */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/**
 * The real {@link Exec}, on node's `child_process.spawn` (it costs about a
 * third of the CPU per call of a higher-level wrapper, and the sampler may
 * run nvidia-smi every 2 s). The program runs in its own process group,
 * and a timeout kills the whole group with SIGKILL: a hung nvidia-smi may
 * have children of its own, and none may linger.
 */
export function createExec(): Exec {
  return (file, args, options) =>
    new Promise((resolve) => {
      const started = performance.now();
      const child = spawn(file, [...args], {
        env: { ...process.env, ...options.env },
        detached: true,
        stdio: [
          options.input === undefined ? 'ignore' : 'pipe',
          'pipe',
          'pipe',
        ],
      });
      const stdout = collect(child.stdout);
      const stderr = collect(child.stderr);
      let timedOut = false;
      let spawnError: string | null = null;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child.pid);
      }, options.timeoutMs);
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(options.input);
      child.once('error', (error) => {
        spawnError = error.message;
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({
          exitCode: spawnError === null ? code : null,
          signal,
          timedOut,
          stdout: stdout(),
          stderr: stderr().toString('utf8'),
          spawnError,
          durationMs: performance.now() - started,
        });
      });
    });
}

function collect(stream: Readable | null): () => Buffer {
  const chunks: Buffer[] = [];
  let size = 0;
  stream?.on('data', (chunk: Buffer) => {
    if (size >= MAX_OUTPUT_BYTES) return;
    chunks.push(chunk);
    size += chunk.length;
  });
  return () => Buffer.concat(chunks);
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already gone: the program exited as the timer fired.
  }
}
