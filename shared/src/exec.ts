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

/**
 * The real {@link Exec}, on execa. The program runs in its own process
 * group, and a timeout kills the whole group with SIGKILL: a hung
 * nvidia-smi may have children of its own, and none may linger.
 */
export function createExec(): Exec {
  return async (file, args, options) => {
    const started = performance.now();
    const child = execa(file, [...args], {
      env: options.env,
      extendEnv: true,
      input: options.input,
      encoding: 'buffer',
      reject: false,
      stripFinalNewline: false,
      maxBuffer: 64 * 1024 * 1024,
      detached: true,
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, options.timeoutMs);
    const result = await child.finally(() => clearTimeout(timer));
    const spawnFailed =
      result.failed &&
      result.exitCode === undefined &&
      !timedOut &&
      result.signal === undefined;
    return {
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      timedOut,
      stdout: Buffer.from(result.stdout ?? new Uint8Array()),
      stderr: Buffer.from(result.stderr ?? new Uint8Array()).toString('utf8'),
      spawnError: spawnFailed
        ? (result.originalMessage ?? 'spawn failed')
        : null,
      durationMs: performance.now() - started,
    };
  };
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already gone: the program exited as the timer fired.
  }
}
