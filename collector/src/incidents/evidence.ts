/**
 * What the agents said that explains an incident: guard events, the
 * protected workload's health, GPU snapshots (one digest a minute, the
 * worst of that minute) and per-minute request counts. Pure data handling:
 * no I/O and no clock; times come from the messages.
 */
import { countGood } from '../../../shared/src/messages.ts';
import type {
  AgentMessage,
  GuardEvent,
  Hello,
  OllamaStatus,
  SliEvent,
} from '../../../shared/src/messages.ts';
import type { Snapshot } from '../../../shared/src/snapshot.ts';

/** A process as an incident remembers it. */
export interface ProcessDigest {
  pid: number;
  name: string | null;
  user: string | null;
  command: string | null;
  unit: string | null;
  /** VRAM held; null when the driver cannot tell. */
  usedBytes: number | null;
}

/** One GPU at one moment. */
export interface GpuDigest {
  index: number;
  uuid: string;
  name: string | null;
  totalBytes: number | null;
  usedBytes: number | null;
  freeBytes: number | null;
  utilizationGpuPercent: number | null;
  processes: ProcessDigest[];
}

/** The host's GPUs at one moment (the worst sample of its minute). */
export interface SnapshotDigest {
  atMs: number;
  gpus: GpuDigest[];
}

/** A health change of the protected workload. */
export interface WorkloadObservation {
  atMs: number;
  status: 'ok' | 'degraded' | 'down';
  kind: string;
  message: string;
  ollama: OllamaStatus | null;
}

/** Requests in one minute: all, failed, and successful but too slow. */
export interface SliMinute {
  minuteStartMs: number;
  total: number;
  failed: number;
  slow: number;
  /**
   * Successful requests per latency bucket (`LATENCY_BOUNDS_MS`, summed
   * over the minute); absent in evidence stored before it was kept.
   */
  latencyCounts?: number[];
  /** Start of the minute's first interval with slow or failed requests; null when none. */
  firstBadMs?: number | null;
  /** End of the minute's last interval with slow or failed requests; null when none. */
  lastBadEndMs?: number | null;
}

/** The evidence an incident holds, bounded in size. */
export interface IncidentEvidence {
  guardEvents: GuardEvent[];
  workload: WorkloadObservation[];
  snapshots: SnapshotDigest[];
  sli: SliMinute[];
  /** The node's last hello: host facts, GPUs and guard policy. */
  hello: Hello | null;
}

/** How evidence is judged and bounded. */
export interface EvidenceLimits {
  /** A successful request slower than this is bad (SLO threshold), ms. */
  latencyThresholdMs: number;
  /** Most guard events kept; oldest dropped first. */
  maxGuardEvents: number;
  /** Most snapshot digests (one a minute) kept. */
  maxSnapshots: number;
  /** Most workload observations kept. */
  maxWorkload: number;
  /** Most SLI minutes kept. */
  maxSliMinutes: number;
}

/** Defaults: 2 s threshold, a few hours of minutes, 1000 guard events. */
export const DEFAULT_EVIDENCE_LIMITS: EvidenceLimits = {
  latencyThresholdMs: 2000,
  maxGuardEvents: 1000,
  maxSnapshots: 360,
  maxWorkload: 500,
  maxSliMinutes: 1440,
};

const MINUTE_MS = 60_000;

/** Evidence with nothing in it. */
export function emptyEvidence(): IncidentEvidence {
  return { guardEvents: [], workload: [], snapshots: [], sli: [], hello: null };
}

/** The time a message speaks about, ms since the epoch. */
export function messageTimeMs(message: AgentMessage): number {
  const payload = message.payload;
  if (payload.type === 'guard') return payload.guard.atMs;
  if (payload.type === 'health') return payload.health.atMs;
  if (payload.type === 'sli') return payload.sli.intervalEndMs;
  if (payload.type === 'snapshot') {
    const atMs = Date.parse(payload.snapshot.takenAt);
    return Number.isFinite(atMs) ? atMs : message.sentAtMs;
  }
  return message.sentAtMs;
}

/**
 * Adds what `message` says to `evidence` (in place). Returns true when the
 * evidence changed in a way worth saving at once (a guard or workload
 * event, a new minute of snapshots or requests, a hello).
 */
export function addEvidence(
  evidence: IncidentEvidence,
  message: AgentMessage,
  limits: EvidenceLimits,
): boolean {
  const payload = message.payload;
  switch (payload.type) {
    case 'hello':
      evidence.hello = payload.hello;
      return true;
    case 'guard':
      pushBounded(evidence.guardEvents, payload.guard, limits.maxGuardEvents);
      return true;
    case 'health':
      if (payload.health.component !== 'ollama') return false;
      pushBounded(
        evidence.workload,
        {
          atMs: payload.health.atMs,
          status: payload.health.status,
          kind: payload.health.kind,
          message: payload.health.message,
          ollama: payload.health.ollama,
        },
        limits.maxWorkload,
      );
      return true;
    case 'snapshot':
      return addSnapshot(evidence, payload.snapshot, limits);
    case 'sli':
      return addSli(evidence, payload.sli, limits);
  }
}

/** The part of `evidence` between `fromMs` and `toMs` (inclusive), copied. */
export function evidenceBetween(
  evidence: IncidentEvidence,
  fromMs: number,
  toMs: number,
): IncidentEvidence {
  const within = (atMs: number): boolean => atMs >= fromMs && atMs <= toMs;
  return structuredClone({
    guardEvents: evidence.guardEvents.filter((e) => within(e.atMs)),
    workload: evidence.workload.filter((e) => within(e.atMs)),
    snapshots: evidence.snapshots.filter((s) => within(s.atMs)),
    sli: evidence.sli.filter((m) => within(m.minuteStartMs)),
    hello: evidence.hello,
  });
}

/** Drops everything older than `beforeMs` (in place), keeping the hello. */
export function pruneEvidence(
  evidence: IncidentEvidence,
  beforeMs: number,
): void {
  evidence.guardEvents = evidence.guardEvents.filter((e) => e.atMs >= beforeMs);
  evidence.workload = evidence.workload.filter((e) => e.atMs >= beforeMs);
  evidence.snapshots = evidence.snapshots.filter((s) => s.atMs >= beforeMs);
  evidence.sli = evidence.sli.filter((m) => m.minuteStartMs >= beforeMs);
}

/** A compact copy of a snapshot. */
export function digestSnapshot(snapshot: Snapshot): SnapshotDigest {
  return {
    atMs: Date.parse(snapshot.takenAt),
    gpus: snapshot.gpus.map((gpu) => ({
      index: gpu.index,
      uuid: gpu.uuid,
      name: gpu.name,
      totalBytes: gpu.memory.totalBytes,
      usedBytes: gpu.memory.usedBytes,
      freeBytes: gpu.memory.freeBytes,
      utilizationGpuPercent: gpu.utilizationPercent.gpu,
      processes: gpu.processes.map((p) => ({
        pid: p.pid,
        name: p.name,
        user: p.user,
        command: p.command,
        unit: p.unit ?? null,
        usedBytes: p.usedBytes,
      })),
    })),
  };
}

function addSnapshot(
  evidence: IncidentEvidence,
  snapshot: Snapshot,
  limits: EvidenceLimits,
): boolean {
  const digest = digestSnapshot(snapshot);
  if (!Number.isFinite(digest.atMs)) return false;
  const last = evidence.snapshots.at(-1);
  const sameMinute =
    last !== undefined &&
    Math.floor(last.atMs / MINUTE_MS) === Math.floor(digest.atMs / MINUTE_MS);

  if (!sameMinute) {
    pushBounded(evidence.snapshots, digest, limits.maxSnapshots);
    return true;
  }
  // Keep the worst sample of the minute: the one with the least free VRAM.
  if (freeOf(digest) < freeOf(last)) {
    evidence.snapshots[evidence.snapshots.length - 1] = digest;
  }
  return false;
}

function freeOf(digest: SnapshotDigest): number {
  return digest.gpus.reduce(
    (sum, gpu) => sum + (gpu.freeBytes ?? Number.POSITIVE_INFINITY),
    0,
  );
}

function addSli(
  evidence: IncidentEvidence,
  sli: SliEvent,
  limits: EvidenceLimits,
): boolean {
  const minuteStartMs = Math.floor(sli.intervalStartMs / MINUTE_MS) * MINUTE_MS;
  const succeeded = Math.max(0, sli.total - sli.failed);
  const slow = Math.max(
    0,
    succeeded - countGood(sli, limits.latencyThresholdMs),
  );
  const minute = evidence.sli.find((m) => m.minuteStartMs === minuteStartMs);
  const bad = sli.failed + slow > 0;

  if (minute) {
    minute.total += sli.total;
    minute.failed += sli.failed;
    minute.slow += slow;
    minute.latencyCounts = addCounts(minute.latencyCounts, sli.latencyCounts);
    if (bad) noteBad(minute, sli);
    return false;
  }
  const entry: SliMinute = {
    minuteStartMs,
    total: sli.total,
    failed: sli.failed,
    slow,
    latencyCounts: addCounts([], sli.latencyCounts),
    firstBadMs: null,
    lastBadEndMs: null,
  };
  if (bad) noteBad(entry, sli);
  pushBounded(evidence.sli, entry, limits.maxSliMinutes);
  return true;
}

function addCounts(sum: number[] | undefined, counts: number[]): number[] {
  const out = [...(sum ?? [])];
  counts.forEach((count, i) => {
    out[i] = (out[i] ?? 0) + count;
  });
  return out;
}

// Intervals can arrive out of order (probe and request log): keep the span.
function noteBad(minute: SliMinute, sli: SliEvent): void {
  const first = minute.firstBadMs ?? null;
  const last = minute.lastBadEndMs ?? null;
  minute.firstBadMs =
    first === null ? sli.intervalStartMs : Math.min(first, sli.intervalStartMs);
  minute.lastBadEndMs =
    last === null ? sli.intervalEndMs : Math.max(last, sli.intervalEndMs);
}

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
