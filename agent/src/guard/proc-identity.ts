/**
 * Reading a process's identity from `/proc` and signalling it with guards:
 * the small I/O edge the enforcer is given. `/proc/<pid>/stat` field 22 is
 * the start time in clock ticks since boot; field 2 (the name) may hold
 * spaces and parentheses, so fields are counted after the last `)`.
 */
import type { Fs } from '../../../shared/src/fs.ts';
import { err, ok } from '../../../shared/src/result.ts';
import type { Result } from '../../../shared/src/result.ts';
import type { ProcessIdentity } from './types.ts';

/** The signals the enforcer sends. */
export type KillSignal = 'SIGTERM' | 'SIGKILL';

/** Sends a signal to one pid; a failure is a value. */
export type Signaller = (
  pid: number,
  signal: KillSignal,
) => Result<void, string>;

/** Fields of `/proc/<pid>/stat` the guard uses. */
export interface ProcStat {
  state: string;
  ppid: number;
  startTimeTicks: number;
}

/** Parses `/proc/<pid>/stat` text; `null` when malformed. */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // After the name: field 3 (state) is index 0, so field N is index N − 3.
  const state = fields[0];
  const ppid = Number(fields[1]);
  const startTimeTicks = Number(fields[19]);
  if (!state || !Number.isInteger(ppid) || !Number.isInteger(startTimeTicks)) {
    return null;
  }
  return { state, ppid, startTimeTicks };
}

/** Reads the boot id; `null` when unreadable (not Linux, no /proc). */
export async function readBootId(
  fs: Fs,
  procRoot = '/proc',
): Promise<string | null> {
  try {
    const text = await fs.readText(`${procRoot}/sys/kernel/random/boot_id`);
    return text.trim() || null;
  } catch {
    return null;
  }
}

/**
 * Reads a live process's identity; `null` when the pid is gone or a
 * zombie (a zombie has already let go of its GPU memory).
 */
export async function readProcessIdentity(
  pid: number,
  deps: { fs: Fs; bootId: string | null; procRoot?: string },
): Promise<ProcessIdentity | null> {
  try {
    const text = await deps.fs.readText(
      `${deps.procRoot ?? '/proc'}/${pid}/stat`,
    );
    const stat = parseProcStat(text);
    if (!stat || stat.state === 'Z' || stat.state === 'X') return null;
    return { pid, startTimeTicks: stat.startTimeTicks, bootId: deps.bootId };
  } catch {
    // ENOENT / ESRCH: the process exited between two reads; that is news,
    // not a failure.
    return null;
  }
}

/**
 * The real signaller: `process.kill` for one positive pid, refusing pid
 * ≤ 1, non-integers, gpuwarden itself and its parent whatever the caller
 * asks (a negative or zero pid would signal a whole group or everyone).
 */
export function createSignaller(
  options: { selfPid: number; parentPid: number },
  kill: (pid: number, signal: KillSignal) => void = (pid, signal) =>
    void process.kill(pid, signal),
): Signaller {
  return (pid, signal) => {
    const refused =
      !Number.isInteger(pid) ||
      pid <= 1 ||
      pid === options.selfPid ||
      pid === options.parentPid;
    if (refused) return err(`refused to signal pid ${pid}`);
    try {
      kill(pid, signal);
      return ok(undefined);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
      return err(`${signal} to pid ${pid} failed: ${code}`);
    }
  };
}
