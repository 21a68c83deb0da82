/**
 * One gpuwarden program per state directory: the collector's `dataDir`
 * (incident store, journal) and the agent's `stateDir` (outbox, sequence
 * numbers) break when two processes write them at once. The lock is a file
 * `<dir>/.lock`, created exclusively (`O_EXCL`), holding the owner's pid
 * and its start time from `/proc/<pid>/stat`. A lock whose pid is gone, or
 * now belongs to another process (a reused pid: the start time differs),
 * is stale and taken over; a live owner makes the second program refuse
 * to start.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { createSystemClock } from './clock.ts';
import type { Clock } from './clock.ts';
import { GpuwardenError } from './errors.ts';
import type { Logger } from './logger.ts';
import { err, ok } from './result.ts';
import type { Result } from './result.ts';

/** The lock file's name inside the state directory. */
export const LOCK_FILE_NAME = '.lock';

/** Which program holds a state directory. */
export type StateLockName = 'collector' | 'agent';

/** Options of {@link acquireStateLock}. */
export interface StateLockOptions {
  /** The program taking the lock, for the refusal message. */
  name: StateLockName;
  /** The config key that names the directory, e.g. `dataDir`. */
  dirSetting?: string;
}

/** The file calls the lock makes. */
export interface LockFs {
  /** Creates `file` with `text`; rejects with code `EEXIST` if it exists. */
  createExclusive(file: string, text: string): Promise<void>;
  readText(file: string): Promise<string>;
  /** Removes `file`; a missing file is no error. */
  rm(file: string): Promise<void>;
  mkdir(dir: string): Promise<void>;
}

/** Collaborators of {@link acquireStateLock}; each has a real default. */
export interface StateLockDeps {
  fs?: LockFs;
  logger?: Logger;
  /** This process's pid; default `process.pid`. */
  pid?: number;
  /** Root of the proc file system; default `/proc`. */
  procRoot?: string;
  /** True when a process with `pid` exists; default `kill(pid, 0)`. */
  isAlive?: (pid: number) => boolean;
  /** Wall time for the lock's `startedAt`; default the system clock. */
  clock?: Pick<Clock, 'nowMs'>;
}

/** A held lock. */
export interface StateLock {
  /** The lock file's path. */
  file: string;
  /** Removes the lock file if it is still this process's; idempotent. */
  release(): Promise<void>;
}

/** What the lock file holds (JSON, one line). */
export interface LockRecord {
  pid: number;
  /** Field 22 of `/proc/<pid>/stat` (clock ticks since boot); null if unknown. */
  procStartTicks: string | null;
  name: string;
  startedAt: string;
}

/**
 * Takes the lock on `dir` (creating `dir`). Fails, as a one-line message
 * that says what and what to do, when a live process holds it or the lock
 * file cannot be written.
 */
export async function acquireStateLock(
  dir: string,
  options: StateLockOptions,
  deps: StateLockDeps = {},
): Promise<Result<StateLock, string>> {
  const fs = deps.fs ?? createNodeLockFs();
  const pid = deps.pid ?? process.pid;
  const procRoot = deps.procRoot ?? '/proc';
  const file = path.join(dir, LOCK_FILE_NAME);
  const record: LockRecord = {
    pid,
    procStartTicks: await readProcStartTicks(procRoot, pid, fs),
    name: options.name,
    startedAt: new Date(
      (deps.clock ?? createSystemClock()).nowMs(),
    ).toISOString(),
  };
  const text = `${JSON.stringify(record)}\n`;

  try {
    await fs.mkdir(dir);
  } catch (error) {
    return err(writeFailure(options, dir, error));
  }
  // Two tries: the second after removing a stale lock. Another process
  // taking the same stale lock between our read and our create makes our
  // second create fail with EEXIST, and we report that process.
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await fs.createExclusive(file, text);
      return ok(heldLock(file, text, fs));
    } catch (error) {
      if (errnoOf(error) !== 'EEXIST') {
        return err(writeFailure(options, dir, error));
      }
    }
    const holder = await readHolder(file, fs);
    const check = { procRoot, fs, isAlive: deps.isAlive ?? isPidAlive };
    if (holder !== null && (await isHeld(holder, pid, check))) {
      return err(refusal(options, dir, holder));
    }
    deps.logger?.warn(
      { file, stalePid: holder?.pid ?? null, name: options.name },
      'taking over a stale state lock',
    );
    await fs.rm(file);
  }
  return err(
    `cannot lock ${dir}: another gpuwarden ${options.name} took it at the same time; start only one`,
  );
}

/**
 * {@link acquireStateLock} for a program's start: the failure is thrown as
 * a `STORE_FAILED` {@link GpuwardenError} (exit 1) with the same line.
 */
export async function holdStateLock(
  dir: string,
  options: StateLockOptions,
  deps: StateLockDeps = {},
): Promise<StateLock> {
  const lock = await acquireStateLock(dir, options, deps);
  if (!lock.ok) throw new GpuwardenError('STORE_FAILED', lock.error);
  return lock.value;
}

/** Field 22 (`starttime`) of `/proc/<pid>/stat`, or null when unreadable. */
export async function readProcStartTicks(
  procRoot: string,
  pid: number,
  fs: Pick<LockFs, 'readText'>,
): Promise<string | null> {
  try {
    return parseStatStartTicks(
      await fs.readText(path.join(procRoot, String(pid), 'stat')),
    );
  } catch {
    return null;
  }
}

/**
 * The `starttime` field of a `/proc/<pid>/stat` line. The command name in
 * parentheses may hold spaces and parentheses, so fields are counted from
 * the last `)`: after it come field 3 (state) onwards, starttime is 22.
 */
export function parseStatStartTicks(stat: string): string | null {
  const close = stat.lastIndexOf(')');
  if (close === -1) return null;
  const fields = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const value = fields[22 - 3];
  return value !== undefined && /^\d+$/.test(value) ? value : null;
}

/** The real file calls, on node:fs. */
export function createNodeLockFs(): LockFs {
  return {
    createExclusive: async (file, text) => {
      const handle = await fsp.open(file, 'wx', 0o644);
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
    readText: (file) => fsp.readFile(file, 'utf8'),
    rm: (file) => fsp.rm(file, { force: true }),
    mkdir: async (dir) => {
      await fsp.mkdir(dir, { recursive: true });
    },
  };
}

function heldLock(file: string, text: string, fs: LockFs): StateLock {
  let released: Promise<void> | null = null;
  const release = async (): Promise<void> => {
    // Only our own lock is removed: a lock taken over after ours went
    // stale (a paused process) belongs to someone else now.
    const now = await fs.readText(file).catch(() => null);
    if (now === text) await fs.rm(file);
  };
  return {
    file,
    release: () => (released ??= release()),
  };
}

interface HolderCheck {
  procRoot: string;
  fs: LockFs;
  isAlive: (pid: number) => boolean;
}

/** True when `holder` is a live process other than ourselves-restarted. */
async function isHeld(
  holder: LockRecord,
  selfPid: number,
  check: HolderCheck,
): Promise<boolean> {
  if (!check.isAlive(holder.pid)) return false;
  const ticks = await readProcStartTicks(check.procRoot, holder.pid, check.fs);
  if (ticks !== null && holder.procStartTicks !== null) {
    return ticks === holder.procStartTicks;
  }
  // No start time to compare (no /proc): a live pid other than ours holds
  // it; our own pid in an old file is a lock left by a previous process
  // that happened to get the same pid (containers start at low pids).
  return holder.pid !== selfPid;
}

/** The lock file's record; null when it is empty or not ours to read. */
async function readHolder(
  file: string,
  fs: LockFs,
): Promise<LockRecord | null> {
  let text: string;
  try {
    text = await fs.readText(file);
  } catch {
    return null;
  }
  try {
    const data = JSON.parse(text) as Partial<LockRecord>;
    if (typeof data.pid !== 'number' || !Number.isInteger(data.pid)) {
      return null;
    }
    return {
      pid: data.pid,
      procStartTicks:
        typeof data.procStartTicks === 'string' ? data.procStartTicks : null,
      name: typeof data.name === 'string' ? data.name : 'program',
      startedAt: typeof data.startedAt === 'string' ? data.startedAt : '',
    };
  } catch {
    // A half-written lock (a crash between create and write) is stale.
    return null;
  }
}

function refusal(
  options: StateLockOptions,
  dir: string,
  holder: LockRecord,
): string {
  const setting = options.dirSetting ?? defaultSetting(options.name);
  return `another gpuwarden ${holder.name} (pid ${holder.pid}) is using ${path.resolve(dir)}; stop it, or give this one another ${setting}`;
}

function writeFailure(
  options: StateLockOptions,
  dir: string,
  error: unknown,
): string {
  const setting = options.dirSetting ?? defaultSetting(options.name);
  return `cannot lock ${path.resolve(dir)} (${errnoOf(error) ?? 'error'}); make it writable for this user or set ${setting} to another directory`;
}

function defaultSetting(name: StateLockName): string {
  return name === 'collector' ? 'dataDir' : 'stateDir';
}

function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return errnoOf(error) === 'EPERM';
  }
}

function errnoOf(error: unknown): string | null {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : null;
}
