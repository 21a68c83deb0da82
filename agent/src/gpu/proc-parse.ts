/**
 * Pure parsers of Linux `/proc` text: `/proc/<pid>/stat`, `status`,
 * `cgroup` (v1 and v2), `cmdline`, `/proc/stat` and `/etc/passwd`. They
 * take the file's text and never touch the file system; a text they cannot
 * read comes back as `null`. Field positions follow proc(5).
 */

/**
 * Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ). The kernel
 * exports 100 to user space on every architecture Linux runs GPUs on, and
 * `getconf CLK_TCK` reports the same constant, so it is not read at run time.
 */
export const CLK_TCK_HZ = 100;

/** What `/proc/<pid>/stat` says about a process. */
export interface ProcStat {
  pid: number;
  /** `comm`: the executable name, at most 15 bytes, may hold `)` or spaces. */
  comm: string;
  /** State letter: `R`, `S`, `D`, `Z` (zombie), `T`, `X`, … */
  state: string;
  ppid: number;
  /** Start time in clock ticks since boot (field 22). */
  startTimeTicks: number;
}

/** Fields gpuwarden reads from `/proc/<pid>/status`. */
export interface ProcStatus {
  /** Real uid (first number of `Uid:`); `null` when missing. */
  uid: number | null;
  /** `NSpid:` entries, outermost namespace first; `null` when missing. */
  nsPids: number[] | null;
}

/** Where a process sits in the cgroup tree and what owns it. */
export interface ProcCgroup {
  /** The systemd-visible cgroup path, e.g. `/system.slice/ollama.service`. */
  path: string;
  /** Innermost systemd unit (`ollama.service`, `session-4.scope`), or null. */
  unit: string | null;
  /** Container id (64 hex) for Docker, containerd, CRI-O, Podman; or null. */
  container: string | null;
}

/**
 * Parses `/proc/<pid>/stat`. The name (field 2) may hold spaces and `)`,
 * so the fields after it are split from the last `)`.
 */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open) return null;

  const pid = toInt(text.slice(0, open).trim());
  const rest = text.slice(close + 2).split(' ', 20);
  // rest[0] is field 3 (state), so field N sits at rest[N - 3].
  const state = rest[0] ?? '';
  const ppid = toInt(rest[1]);
  const startTimeTicks = toInt(rest[19]);
  if (pid === null || ppid === null || startTimeTicks === null) return null;
  if (!/^[A-Za-z]$/.test(state)) return null;

  return {
    pid,
    comm: text.slice(open + 1, close),
    state,
    ppid,
    startTimeTicks,
  };
}

/** Parses the `Uid:` and `NSpid:` lines of `/proc/<pid>/status`. */
export function parseProcStatus(text: string): ProcStatus {
  let uid: number | null = null;
  let nsPids: number[] | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('Uid:')) {
      uid = toInt(line.slice(4).trim().split(/\s+/)[0]);
    } else if (line.startsWith('NSpid:')) {
      const values = line.slice(6).trim().split(/\s+/).map(toInt);
      nsPids = values.every((v) => v !== null) ? (values as number[]) : null;
    }
  }
  return { uid, nsPids };
}

/**
 * Parses `/proc/<pid>/cgroup`. Prefers the unified (v2) line `0::/path`,
 * then the v1 `name=systemd` hierarchy, then any v1 line with a path below
 * the root. `null` when no line has a path.
 */
export function parseProcCgroup(text: string): ProcCgroup | null {
  const entries = text
    .split('\n')
    .map((line) => /^(\d+):([^:]*):(.*)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ id: m[1], controllers: m[2], path: m[3] ?? '' }));
  const chosen =
    entries.find((e) => e.id === '0' && e.controllers === '' && e.path) ??
    entries.find((e) => e.controllers === 'name=systemd' && e.path) ??
    entries.find((e) => e.path && e.path !== '/');
  if (!chosen) return null;

  return {
    path: chosen.path,
    unit: unitOf(chosen.path),
    container: containerOf(entries.map((e) => e.path)),
  };
}

function unitOf(path: string): string | null {
  const segments = path.split('/').filter(Boolean).reverse();
  return segments.find((s) => /\.(service|scope)$/.test(s)) ?? null;
}

/**
 * Container ids appear as `docker-<id>.scope`, `cri-containerd-<id>.scope`,
 * `crio-<id>.scope`, `libpod-<id>.scope` (systemd driver) or as a bare
 * `/docker/<id>` or `…:cri-containerd:<id>` segment (cgroupfs driver).
 */
function containerOf(paths: string[]): string | null {
  for (const path of paths) {
    const match = /(?:^|[/:-])([0-9a-f]{64})(?:\.scope)?(?:\/|$)/.exec(path);
    if (match) return match[1] ?? null;
  }
  return null;
}

/**
 * Joins `/proc/<pid>/cmdline` (NUL-separated arguments) with spaces.
 * `null` when empty: kernel threads and zombies have no command line.
 */
export function parseCmdline(text: string): string | null {
  const args = text.split('\0');
  while (args.length > 0 && args[args.length - 1] === '') args.pop();
  return args.length > 0 ? args.join(' ') : null;
}

/** The boot time from the `btime` line of `/proc/stat`, in epoch seconds. */
export function parseBootTimeSeconds(text: string): number | null {
  const match = /^btime\s+(\d+)\s*$/m.exec(text);
  return match ? toInt(match[1]) : null;
}

/** Maps uid to user name from `/etc/passwd` text; the first entry wins. */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [name, , uidText] = line.split(':');
    const uid = toInt(uidText);
    if (name && uid !== null && !users.has(uid)) users.set(uid, name);
  }
  return users;
}

/**
 * Wall-clock start of a process in epoch milliseconds, from the boot time
 * (`/proc/stat` btime) and its start time in ticks since boot.
 */
export function startedAtMs(
  bootTimeSeconds: number,
  startTimeTicks: number,
  clockTicksPerSecond: number = CLK_TCK_HZ,
): number {
  return (
    bootTimeSeconds * 1000 +
    Math.round((startTimeTicks * 1000) / clockTicksPerSecond)
  );
}

/** Parses `/proc/<pid>/oom_score_adj` (-1000..1000). */
export function parseOomScoreAdj(text: string): number | null {
  return toInt(text.trim());
}

function toInt(text: string | undefined): number | null {
  if (text === undefined || !/^-?\d+$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}
