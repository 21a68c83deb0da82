/**
 * The `guard` section of the agent config: which GPU memory to keep for the
 * protected workload, who may be asked (or made) to give it back, and how
 * patiently. Defaults follow DESIGN §3.4 and research/enforcement.md §8.10;
 * `docs/guard.md` lists every key.
 */
import type { ConfigNode } from '../../../shared/src/config.ts';

/** What the guard does about a breach; `warn` unless set. */
export type GuardMode = 'observe' | 'warn' | 'enforce-term' | 'enforce';

/** Every mode, mildest first. */
export const GUARD_MODES: readonly GuardMode[] = [
  'observe',
  'warn',
  'enforce-term',
  'enforce',
];

/** VRAM kept for the protected workload on one GPU. */
export interface Reservation {
  /** GPU UUID when configured by UUID, else `null`. */
  gpuUuid: string | null;
  /** GPU index when configured by index, else `null`. */
  gpuIndex: number | null;
  /** Bytes the protected model needs fully on the GPU. */
  reservedBytes: number;
  /** The workload protected, e.g. `ollama`. */
  workload: string;
  /** The model the reservation is for (`qwen2.5:32b`); `null` if any. */
  model: string | null;
  /** Mode for this GPU; the guard's mode when not set. */
  mode: GuardMode;
}

/** How the protected workload's processes are recognised. */
export interface ProtectMatcher {
  /** systemd unit names (globs with `*`), e.g. `ollama.service`. */
  units: string[];
  /** Substrings of the cgroup path, e.g. `docker-<id>.scope`. */
  cgroups: string[];
  /** Executable path prefixes (`/usr/local/lib/ollama/`). */
  exePrefixes: string[];
  /** Process names, used only when `/proc` cannot tell exe, unit and cgroup. */
  names: string[];
  /** Descendants of a protected process are protected too. Default true. */
  ancestry: boolean;
}

/** Who may be chosen as a victim; everyone else is only warned about. */
export interface EligibleVictims {
  /** User names or numeric uids; empty means nobody (the default). */
  users: string[];
  /** systemd units (globs) whose processes are eligible whoever owns them. */
  units: string[];
  /** Smallest VRAM worth a kill, bytes. Default 256 MiB. */
  minVictimBytes: number;
  /** Graphics contexts may be chosen. Default false. */
  graphics: boolean;
  /** Processes in containers: `warn` only (default) or `kill`. */
  containers: 'warn' | 'kill';
}

/** Which harm signals count as harm. All on by default. */
export interface HarmPolicy {
  latency: boolean;
  offload: boolean;
  notResident: boolean;
  loadFailure: boolean;
}

/** Where warnings go besides the log and the collector. */
export interface HookConfig {
  /** A program and its arguments; gets the event as JSON on stdin. */
  command: string[] | null;
  /** URL that receives the event as a JSON POST. */
  webhook: string | null;
  /** Time allowed per hook call, ms. Default 5 s. */
  timeoutMs: number;
}

/** The validated guard section. Durations are ms, sizes bytes. */
export interface GuardConfig {
  mode: GuardMode;
  /** When this file exists, every GPU runs in `warn`. */
  killSwitchFile: string;
  /** Audit log, relative to the agent's state dir unless absolute. */
  auditFile: string;
  reservations: Reservation[];
  protect: ProtectMatcher;
  eligible: EligibleVictims;
  /** Headroom above the reservation, bytes. Default 512 MiB. */
  marginBytes: number;
  /** Extra freed beyond the deficit so one kill is enough, bytes. */
  minReclaimBytes: number;
  /** A breach without harm is warned about after this, ms. Default 60 s. */
  softGraceMs: number;
  /** A breach with harm may be acted on after this, ms. Default 10 s. */
  hardGraceMs: number;
  /** Samples a breach must span before a kill. Default 3. */
  hardSamples: number;
  /** Quiet time before a recovered GPU counts as healthy, ms. Default 5 min. */
  transitionMs: number;
  harm: HarmPolicy;
  /** Wait after SIGTERM, ms. Default 10 s. */
  termGraceMs: number;
  /** Wait after SIGKILL, ms. Default 5 s. */
  killGraceMs: number;
  /** Wait for VRAM to come back after the exit, ms. Default 10 s. */
  releaseTimeoutMs: number;
  /** Poll interval while waiting, ms. Default 250 ms. */
  pollIntervalMs: number;
  /** Share of the victim's VRAM that must reappear as free. Default 0.75. */
  releaseRatio: number;
  /** No new plan on a GPU this long after one, ms. Default 15 s. */
  cooldownMs: number;
  /** Kills allowed per GPU per hour. Default 3. */
  killsPerGpuPerHour: number;
  /** Same unit and command killed within this → breaker opens, ms. */
  respawnWindowMs: number;
  /** Repeat an unchanged warning at most this often, ms. Default 10 min. */
  warnEveryMs: number;
  /** Never act on a snapshot older than this, ms. Default 5 s. */
  staleAfterMs: number;
  hook: HookConfig;
  /** Unload and reload a model left partly on the CPU. Default false. */
  reloadAfterRestore: boolean;
  /** Kill even when the eligible set cannot restore it all. Default false. */
  allowPartialRelief: boolean;
}

/** Where Ollama installs itself (research/ollama.md §4). */
export const DEFAULT_OLLAMA_EXE_PREFIXES: readonly string[] = [
  '/usr/local/bin/ollama',
  '/usr/local/lib/ollama/',
  '/usr/lib/ollama/',
  '/usr/bin/ollama',
  '/bin/ollama',
];

/** Names Ollama's GPU processes have had, by version. */
export const DEFAULT_OLLAMA_NAMES: readonly string[] = [
  'ollama',
  'ollama_llama_server',
  'ollama_llama_se',
  'ollama-runner',
  'llama-server',
];

/** Validates the `guard` section; throws `ConfigError` naming the field. */
export function parseGuardConfig(node: ConfigNode): GuardConfig {
  const mode = node.oneOf('mode', GUARD_MODES, 'warn');
  const grace = node.child('grace');
  const kill = node.child('kill');
  const limits = node.child('limits');
  const config: GuardConfig = {
    mode,
    killSwitchFile: node.string(
      'killSwitchFile',
      '/etc/gpuwarden/disable-enforce',
    ),
    auditFile: node.string('auditFile', 'guard-audit.jsonl'),
    reservations: node
      .children('reservations')
      .map((n) => parseReservation(n, mode)),
    protect: parseProtect(node.child('protect')),
    eligible: parseEligible(node.child('eligible')),
    marginBytes: node.bytes('margin', '512MiB'),
    minReclaimBytes: node.bytes('minReclaim', '512MiB'),
    softGraceMs: grace.durationMs('soft', '60s'),
    hardGraceMs: grace.durationMs('hard', '10s'),
    hardSamples: grace.number('hardSamples', 3, { min: 1, integer: true }),
    transitionMs: grace.durationMs('transition', '5m'),
    harm: parseHarm(node.child('harm')),
    termGraceMs: kill.durationMs('termGrace', '10s', { minMs: 1 }),
    killGraceMs: kill.durationMs('killGrace', '5s', { minMs: 1 }),
    releaseTimeoutMs: kill.durationMs('releaseTimeout', '10s', { minMs: 1 }),
    pollIntervalMs: kill.durationMs('pollInterval', '250ms', { minMs: 10 }),
    releaseRatio: kill.number('releaseRatio', 0.75, { min: 0, max: 1 }),
    cooldownMs: kill.durationMs('cooldown', '15s'),
    killsPerGpuPerHour: limits.number('killsPerGpuPerHour', 3, {
      min: 0,
      integer: true,
    }),
    respawnWindowMs: limits.durationMs('respawnWindow', '30m'),
    warnEveryMs: node.durationMs('warnEvery', '10m'),
    staleAfterMs: node.durationMs('staleAfter', '5s', { minMs: 1 }),
    hook: parseHook(node.child('hook')),
    reloadAfterRestore: node.boolean('reloadAfterRestore', false),
    allowPartialRelief: node.boolean('allowPartialRelief', false),
  };
  for (const section of [grace, kill, limits]) section.done();
  node.done();
  checkUniqueGpus(node, config.reservations);
  return config;
}

function parseReservation(node: ConfigNode, mode: GuardMode): Reservation {
  const gpu = node.raw('gpu');
  const isIndex = typeof gpu === 'number' && Number.isInteger(gpu) && gpu >= 0;
  const isUuid = typeof gpu === 'string' && /^(GPU|MIG)-[\w-]+$/.test(gpu);
  if (!isIndex && !isUuid) {
    node.fail('gpu', 'must be a GPU index (0) or UUID (GPU-…)', gpu);
  }
  const reservedBytes = node.bytes('reserve');
  if (reservedBytes <= 0) node.fail('reserve', 'must be more than 0', 0);
  const reservation: Reservation = {
    gpuUuid: isUuid ? gpu : null,
    gpuIndex: isIndex ? gpu : null,
    reservedBytes,
    workload: node.string('workload', 'ollama'),
    model: node.optionalString('model'),
    mode: node.oneOf('mode', GUARD_MODES, mode),
  };
  node.done();
  return reservation;
}

function parseProtect(node: ConfigNode): ProtectMatcher {
  const matcher: ProtectMatcher = {
    units: node.stringList('units', ['ollama.service']),
    cgroups: node.stringList('cgroups', []),
    exePrefixes: node.stringList('exePrefixes', DEFAULT_OLLAMA_EXE_PREFIXES),
    names: node.stringList('names', DEFAULT_OLLAMA_NAMES),
    ancestry: node.boolean('ancestry', true),
  };
  node.done();
  return matcher;
}

function parseEligible(node: ConfigNode): EligibleVictims {
  const users = node.raw('users') ?? [];
  const isList =
    Array.isArray(users) &&
    users.every((u) => typeof u === 'string' || Number.isInteger(u));
  if (!isList) {
    node.fail('users', 'must be a list of user names or uids', users);
  }
  const eligible: EligibleVictims = {
    users: (users as unknown[]).map(String),
    units: node.stringList('units', []),
    minVictimBytes: node.bytes('minVictim', '256MiB'),
    graphics: node.boolean('graphics', false),
    containers: node.oneOf('containers', ['warn', 'kill'] as const, 'warn'),
  };
  node.done();
  return eligible;
}

function parseHarm(node: ConfigNode): HarmPolicy {
  const harm: HarmPolicy = {
    latency: node.boolean('latency', true),
    offload: node.boolean('offload', true),
    notResident: node.boolean('notResident', true),
    loadFailure: node.boolean('loadFailure', true),
  };
  node.done();
  return harm;
}

function parseHook(node: ConfigNode): HookConfig {
  const command = node.has('command') ? node.stringList('command') : null;
  if (command !== null && command.length === 0) {
    node.fail('command', 'must name a program to run', command);
  }
  const webhook = node.optionalString('webhook');
  if (webhook !== null && !/^https?:\/\/\S+$/.test(webhook)) {
    node.fail('webhook', 'must be an http:// or https:// URL', webhook);
  }
  const hook: HookConfig = {
    command: command ?? (node.raw('command'), null),
    webhook,
    timeoutMs: node.durationMs('timeout', '5s', { minMs: 1 }),
  };
  node.done();
  return hook;
}

function checkUniqueGpus(node: ConfigNode, reservations: Reservation[]) {
  const seen = new Set<string>();
  for (const r of reservations) {
    const key = reservationGpuKey(r);
    if (seen.has(key)) {
      node.fail('reservations', 'must name each GPU at most once', key);
    }
    seen.add(key);
  }
}

/** The GPU a reservation names: its UUID, or `index:N`. */
export function reservationGpuKey(reservation: Reservation): string {
  return reservation.gpuUuid ?? `index:${reservation.gpuIndex ?? -1}`;
}
