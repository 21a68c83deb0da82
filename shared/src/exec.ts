/**
 * Running programs: always a file plus arguments (no shell), always with a
 * timeout that kills. Parsers get stdout strings from here, never a process.
 */
import { execa } from 'execa';

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

/** The real {@link Exec}, on execa; kills the whole child on timeout. */
export function createExec(): Exec {
  return async (file, args, options) => {
    const started = performance.now();
    const result = await execa(file, [...args], {
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
      env: options.env,
      extendEnv: true,
      input: options.input,
      encoding: 'buffer',
      reject: false,
      stripFinalNewline: false,
      maxBuffer: 64 * 1024 * 1024,
    });
    const spawnFailed =
      result.failed && result.exitCode === undefined && !result.timedOut;
    return {
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      timedOut: result.timedOut,
      stdout: Buffer.from(result.stdout ?? new Uint8Array()),
      stderr: Buffer.from(result.stderr ?? new Uint8Array()).toString('utf8'),
      spawnError: spawnFailed
        ? (result.originalMessage ?? 'spawn failed')
        : null,
      durationMs: performance.now() - started,
    };
  };
}
