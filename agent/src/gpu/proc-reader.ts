/**
 * Reads what `/proc` knows about the pids a GPU source reported: user,
 * command line, start time, cgroup / systemd unit / container, state.
 * Only the pids asked for are read (never a scan of all processes), with
 * synchronous reads of the tiny files; what does not change while a
 * process lives is kept, keyed by (pid, start time) so a reused pid never
 * inherits another process's metadata.
 */
import type { Clock } from '../../../shared/src/clock.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import {
  parseBootTimeSeconds,
  parseCmdline,
  parseOomScoreAdj,
  parsePasswd,
  parseProcCgroup,
  parseProcStat,
  parseProcStatus,
  startedAtMs,
} from './proc-parse.ts';
import type { ProcStat } from './proc-parse.ts';
import { procPath, readExe, readProcText } from './proc-identity.ts';
import type { ProcDeps } from './proc-identity.ts';

/** Everything `/proc` says about one process. */
export interface ProcessInfo {
  pid: number;
  /** `comm`, at most 15 bytes. */
  comm: string;
  /** State letter from `stat` (`Z` = zombie). */
  state: string;
  ppid: number;
  startTimeTicks: number;
  /** Wall-clock start, epoch ms; `null` when `/proc/stat` has no btime. */
  startedAtMs: number | null;
  uid: number | null;
  /** User name from the passwd file, else the uid as text. */
  user: string | null;
  /** Full command line; `null` for zombies and kernel threads. */
  command: string | null;
  exe: string | null;
  cgroup: string | null;
  unit: string | null;
  container: string | null;
  oomScoreAdj: number | null;
}

/** Options of {@link createProcReader}. */
export interface ProcReaderOptions {
  /** User database; default `/etc/passwd`. */
  passwdPath?: string;
  /**
   * How long metadata that rarely changes (command line, uid, cgroup, exe,
   * oom_score_adj) is reused for a live (pid, start time), in ms; default
   * 60 s. State and parent are read on every call.
   */
  metadataTtlMs?: number;
}

/** Collaborators of {@link createProcReader}. */
export interface ProcReaderDeps extends ProcDeps {
  clock: Clock;
  fs: Fs;
}

/** Reads `/proc` for a set of pids. */
export interface ProcReader {
  /**
   * Reads each pid; a pid that is gone or invisible (another PID
   * namespace) maps to `null`. Never throws for a vanished process.
   */
  read(pids: Iterable<number>): Promise<Map<number, ProcessInfo | null>>;
  /**
   * True when this agent runs in a nested PID namespace (its own
   * `NSpid:` has more than one entry), where driver pids cannot be seen;
   * `null` when that cannot be told.
   */
  inNestedPidNamespace(): boolean | null;
}

type StaticInfo = Omit<ProcessInfo, 'state' | 'ppid' | 'comm'>;

interface CacheEntry {
  info: StaticInfo;
  readAtMs: number;
}

/** Default for {@link ProcReaderOptions.metadataTtlMs}. */
export const DEFAULT_PROC_METADATA_TTL_MS = 60_000;

/** Creates a reader; it keeps its cache in itself, one per sampler. */
export function createProcReader(
  options: ProcReaderOptions,
  deps: ProcReaderDeps,
): ProcReader {
  return new CachingProcReader(options, deps);
}

class CachingProcReader implements ProcReader {
  private readonly ttlMs: number;
  private readonly cache = new Map<number, CacheEntry>();
  private readonly users: (uid: number | null) => string | null;
  private bootTimeSeconds: number | null | undefined;
  private nested: boolean | null | undefined;

  constructor(
    options: ProcReaderOptions,
    private readonly deps: ProcReaderDeps,
  ) {
    this.ttlMs = options.metadataTtlMs ?? DEFAULT_PROC_METADATA_TTL_MS;
    this.users = createUserLookup(options.passwdPath ?? '/etc/passwd', deps);
  }

  async read(pids: Iterable<number>) {
    const nowMs = this.deps.clock.monotonicMs();
    const stats = new Map<number, ProcStat | null>();
    const unknown: ProcStat[] = [];
    for (const pid of pids) {
      if (stats.has(pid)) continue;
      const stat = this.readStat(pid);
      stats.set(pid, stat);
      if (stat && !this.isFresh(stat, nowMs)) unknown.push(stat);
    }

    if (unknown.length > 0) await this.readNew(unknown, nowMs);
    const result = new Map<number, ProcessInfo | null>();
    let live = 0;
    for (const [pid, stat] of stats) {
      const info = withVolatile(this.cache, stat);
      result.set(pid, info);
      if (info) live += 1;
    }
    if (this.cache.size > live) prune(this.cache, result);
    return result;
  }

  inNestedPidNamespace(): boolean | null {
    this.nested ??= detectNestedNamespace(this.deps);
    return this.nested;
  }

  private readStat(pid: number): ProcStat | null {
    const text = readProcText(this.deps, procPath(this.deps, pid, 'stat'));
    const stat = text === null ? null : parseProcStat(text);
    return stat?.pid === pid ? stat : null;
  }

  private isFresh(stat: ProcStat, nowMs: number): boolean {
    const cached = this.cache.get(stat.pid);
    return (
      cached !== undefined &&
      cached.info.startTimeTicks === stat.startTimeTicks &&
      nowMs - cached.readAtMs < this.ttlMs
    );
  }

  private async readNew(stats: ProcStat[], nowMs: number): Promise<void> {
    const bootTime = this.bootTime();
    // The small files are read synchronously; the exe links resolve together.
    const infos = await Promise.all(
      stats.map((stat) => readStatic(stat, bootTime, this.users, this.deps)),
    );
    for (const info of infos) {
      this.cache.set(info.pid, { info, readAtMs: nowMs });
    }
  }

  private bootTime(): number | null {
    this.bootTimeSeconds ??= parseBootTimeSeconds(
      readProcText(this.deps, procPath(this.deps, 'stat')) ?? '',
    );
    return this.bootTimeSeconds;
  }
}

/** Forgets processes that were not asked for or are gone. */
function prune(
  cache: Map<number, CacheEntry>,
  seen: ReadonlyMap<number, ProcessInfo | null>,
): void {
  for (const pid of cache.keys()) {
    if (!seen.get(pid)) cache.delete(pid);
  }
}

function withVolatile(
  cache: ReadonlyMap<number, CacheEntry>,
  stat: ProcStat | null,
): ProcessInfo | null {
  const info = stat === null ? undefined : cache.get(stat.pid)?.info;
  if (!stat || !info) return null;
  // Spelled out rather than spread: a spread of this size takes V8's slow
  // path, and this runs for every pid on every sample.
  return {
    pid: info.pid,
    comm: stat.comm,
    state: stat.state,
    ppid: stat.ppid,
    startTimeTicks: info.startTimeTicks,
    startedAtMs: info.startedAtMs,
    uid: info.uid,
    user: info.user,
    command: info.command,
    exe: info.exe,
    cgroup: info.cgroup,
    unit: info.unit,
    container: info.container,
    oomScoreAdj: info.oomScoreAdj,
  };
}

async function readStatic(
  stat: ProcStat,
  bootTimeSeconds: number | null,
  users: (uid: number | null) => string | null,
  deps: ProcDeps,
): Promise<StaticInfo> {
  const pid = stat.pid;
  const read = (name: string) => readProcText(deps, procPath(deps, pid, name));
  const status = parseProcStatus(read('status') ?? '');
  const cgroup = parseProcCgroup(read('cgroup') ?? '');
  const oomText = read('oom_score_adj');

  return {
    pid,
    startTimeTicks: stat.startTimeTicks,
    startedAtMs:
      bootTimeSeconds === null
        ? null
        : startedAtMs(bootTimeSeconds, stat.startTimeTicks),
    uid: status.uid,
    user: users(status.uid),
    command: parseCmdline(read('cmdline') ?? ''),
    exe: await readExe(deps, pid),
    cgroup: cgroup?.path ?? null,
    unit: cgroup?.unit ?? null,
    container: cgroup?.container ?? null,
    oomScoreAdj: oomText === null ? null : parseOomScoreAdj(oomText),
  };
}

/** Looks up user names, re-reading the passwd file once a minute. */
function createUserLookup(passwdPath: string, deps: ProcReaderDeps) {
  let users: Map<number, string> | null = null;
  let readAtMs = Number.NEGATIVE_INFINITY;
  return (uid: number | null): string | null => {
    if (uid === null) return null;
    const nowMs = deps.clock.monotonicMs();
    if (users === null || nowMs - readAtMs >= DEFAULT_PROC_METADATA_TTL_MS) {
      users = parsePasswd(readProcText(deps, passwdPath) ?? '');
      readAtMs = nowMs;
    }
    // Users from LDAP or a container image are not in the file; the uid
    // still says who it is, as ps prints it.
    return users.get(uid) ?? String(uid);
  };
}

function detectNestedNamespace(deps: ProcDeps): boolean | null {
  const text = readProcText(deps, procPath(deps, 'self', 'status'));
  if (text === null) return null;
  const nsPids = parseProcStatus(text).nsPids;
  return nsPids === null ? null : nsPids.length > 1;
}
