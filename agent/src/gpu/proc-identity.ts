/**
 * Process identity for the guard: a pid is only an identity together with
 * its start time (`/proc/<pid>/stat` field 22) and the boot id, so a pid
 * that was handed to another process is never mistaken for the one a
 * decision was made about. Also the parent chain of a pid.
 */
import type { Fs } from '../../../shared/src/fs.ts';
import { parseProcStat } from './proc-parse.ts';

/** Where `/proc` is; tests point it at a fixture tree. */
export interface ProcDeps {
  fs: Fs;
  /** Root of the proc file system; default `/proc`. */
  procRoot?: string;
}

/** Default root of the proc file system. */
export const DEFAULT_PROC_ROOT = '/proc';

/** Who a pid is: equal identities mean the same process. */
export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot. */
  startTimeTicks: number;
  /** `/proc/sys/kernel/random/boot_id`; `null` when unreadable. */
  bootId: string | null;
}

/** One ancestor of a process. */
export interface AncestorEntry {
  pid: number;
  /** `comm` from `/proc/<pid>/stat`. */
  name: string;
  /** `/proc/<pid>/exe` target; `null` without permission to read it. */
  exe: string | null;
}

/** Deepest parent chain followed; real chains are a dozen or so. */
const MAX_ANCESTRY_DEPTH = 64;

/** Path of `parts` under the proc root (no normalising: it runs per pid). */
export function procPath(
  deps: ProcDeps,
  ...parts: (string | number)[]
): string {
  return `${deps.procRoot ?? DEFAULT_PROC_ROOT}/${parts.join('/')}`;
}

/**
 * Reads a small `/proc` file synchronously (several times faster than the
 * thread-pool round trip of an async read for these tiny files); `null`
 * when it is gone (the process exited) or unreadable.
 */
export function readProcText(deps: ProcDeps, file: string): string | null {
  try {
    return deps.fs.readTextSync(file);
  } catch {
    // ENOENT / ESRCH: the process exited; EACCES: hidepid or another user.
    return null;
  }
}

/** Reads the boot id, which changes at every boot; `null` if unreadable. */
export async function readBootId(deps: ProcDeps): Promise<string | null> {
  const text = readProcText(deps, procPath(deps, 'sys/kernel/random/boot_id'));
  const bootId = text?.trim() ?? '';
  return bootId.length > 0 ? bootId : null;
}

/**
 * Reads a pid's identity now. `null` when the pid does not exist (or is
 * not visible from this PID namespace). Compare with the identity taken
 * when the decision was made, right before signalling.
 */
export async function readProcessIdentity(
  pid: number,
  deps: ProcDeps,
): Promise<ProcessIdentity | null> {
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  const stat = parseProcStat(
    readProcText(deps, procPath(deps, pid, 'stat')) ?? '',
  );
  if (!stat || stat.pid !== pid) return null;

  return {
    pid,
    startTimeTicks: stat.startTimeTicks,
    bootId: await readBootId(deps),
  };
}

/** True when both identities name the same process (same boot, same start). */
export function isSameProcess(a: ProcessIdentity, b: ProcessIdentity): boolean {
  return (
    a.pid === b.pid &&
    a.startTimeTicks === b.startTimeTicks &&
    a.bootId === b.bootId
  );
}

/**
 * The parent chain of `pid`, nearest parent first, ending at pid 1 (or
 * where a parent can no longer be read). The process itself is not in the
 * list; empty when `pid` cannot be read or has no parent (pid 1).
 */
export async function readAncestry(
  pid: number,
  deps: ProcDeps,
): Promise<AncestorEntry[]> {
  const chain: AncestorEntry[] = [];
  const seen = new Set<number>([pid]);
  let current = readStat(deps, pid)?.ppid ?? 0;
  while (current > 0 && !seen.has(current)) {
    if (chain.length >= MAX_ANCESTRY_DEPTH) break;
    const stat = readStat(deps, current);
    if (!stat) break;
    chain.push({
      pid: current,
      name: stat.comm,
      exe: await readExe(deps, current),
    });
    seen.add(current);
    current = stat.ppid;
  }
  return chain;
}

function readStat(deps: ProcDeps, pid: number) {
  return parseProcStat(readProcText(deps, procPath(deps, pid, 'stat')) ?? '');
}

/** `/proc/<pid>/exe` target; `null` when unreadable (other user, kernel). */
export async function readExe(
  deps: ProcDeps,
  pid: number,
): Promise<string | null> {
  try {
    return await deps.fs.readlink(procPath(deps, pid, 'exe'));
  } catch {
    // EACCES for other users' processes without CAP_SYS_PTRACE, ENOENT for
    // kernel threads and zombies: the exe is simply unknown.
    return null;
  }
}
