/**
 * The facts an incident's evidence establishes: which process competed for
 * VRAM, on which GPU, how much it held, what the guard did about it, what
 * was freed and when the workload recovered. Pure: derived from the
 * evidence alone, so the root cause and postmortem read the same facts.
 */
import type { GuardEvent } from '../../../shared/src/messages.ts';
import type {
  GpuDigest,
  IncidentEvidence,
  ProcessDigest,
  SnapshotDigest,
} from './evidence.ts';
import { identifyProcess } from './friendly-names.ts';
import { freeAfter, reservationFacts } from './guard-facts.ts';
import type { ReservationFacts } from './guard-facts.ts';
import { requestFacts } from './request-facts.ts';
import type { RequestFacts } from './request-facts.ts';

/** The process that took the protected workload's room. */
export interface Culprit {
  process: ProcessDigest;
  /** The GPU it held memory on, when known. */
  gpu: GpuDigest | null;
  /** VRAM it held at its peak in the evidence; null when unknown. */
  heldBytes: number | null;
  /** Where the finding comes from. */
  source: 'guard' | 'snapshot';
  /** First time the evidence names it. */
  firstSeenMs: number;
}

/** The protected model, as the workload's health reported it. */
export interface ModelFacts {
  name: string;
  sizeBytes: number | null;
  sizeVramBytes: number | null;
  /** Most bytes of the model held in system RAM at once; 0 = none seen. */
  peakOffloadedBytes: number;
  /** Whether it was seen out of VRAM while the incident ran. */
  wasNotResident: boolean;
}

/** What the evidence establishes. */
export interface IncidentFacts {
  culprit: Culprit | null;
  /** The sample with the least free VRAM. */
  worst: SnapshotDigest | null;
  model: ModelFacts | null;
  firstBreach: GuardEvent | null;
  firstWarning: GuardEvent | null;
  signals: GuardEvent[];
  kill: GuardEvent | null;
  freed: GuardEvent | null;
  /**
   * Whether the guard acted on the competing process: sent it a signal
   * (`signal` events carry SIGTERM, `kill` events SIGKILL) or reported
   * its memory `freed`.
   */
  actedOn: boolean;
  /**
   * Free VRAM on the freed GPU after the `freed` event: the first snapshot
   * after it, else the event's own figure when it shows the memory back;
   * null when unknown.
   */
  freeAfterBytes: number | null;
  /** The guard's reservation on the culprit's GPU and the shortfall it computed. */
  reservation: ReservationFacts | null;
  recoveredAtMs: number | null;
  /** Guard mode from the hello or the events; null unknown. */
  guardMode: string | null;
  /** Whether any reservation was in force; null when no hello came. */
  hasReservation: boolean | null;
  /** Requests in the incident window: all, failed, too slow, slowest. */
  requests: RequestFacts;
}

/** Guard event kinds that mean the guard acted on a process. */
export const ACTION_KINDS: readonly GuardEvent['kind'][] = [
  'signal',
  'kill',
  'freed',
];

/** True when the event records the guard acting on a process. */
export function isGuardAction(event: GuardEvent): boolean {
  return ACTION_KINDS.includes(event.kind);
}

/** Derives the facts from an incident's evidence. */
export function factsOf(evidence: IncidentEvidence): IncidentFacts {
  const events = [...evidence.guardEvents].sort((a, b) => a.atMs - b.atMs);
  const firstOf = (kind: GuardEvent['kind']): GuardEvent | null =>
    events.find((e) => e.kind === kind) ?? null;
  const worst = worstSnapshot(evidence.snapshots);
  const culprit =
    culpritFromGuard(events, evidence) ?? culpritFromSnapshot(worst);
  const freed = firstOf('freed');
  const hasReservation = evidence.hello
    ? evidence.hello.policy.reservations.length > 0
    : null;

  return {
    culprit,
    worst,
    model: modelFacts(evidence),
    firstBreach: firstOf('breach'),
    firstWarning: firstOf('warning'),
    signals: events.filter((e) => e.kind === 'signal'),
    kill: firstOf('kill'),
    freed,
    actedOn: actedOn(events, culprit),
    freeAfterBytes: freed ? freeAfter(freed, events, evidence) : null,
    reservation:
      hasReservation === false ? null : reservationFacts(evidence, culprit),
    recoveredAtMs: firstOf('recovered')?.atMs ?? null,
    guardMode: evidence.hello?.policy.mode ?? events[0]?.mode ?? null,
    hasReservation,
    requests: requestFacts(evidence.sli),
  };
}

/** True when the process belongs to the protected inference workload. */
export function isProtectedProcess(process: ProcessDigest): boolean {
  if (process.unit?.startsWith('ollama')) return true;
  return identifyProcess(process.name, process.command).isInferenceServer;
}

/** The GPU with `uuid` in the snapshots or the hello, newest first. */
export function findGpu(
  evidence: IncidentEvidence,
  uuid: string,
): GpuDigest | null {
  for (const snapshot of [...evidence.snapshots].reverse()) {
    const gpu = snapshot.gpus.find((g) => g.uuid === uuid);
    if (gpu) return gpu;
  }
  const known = evidence.hello?.gpus.find((g) => g.uuid === uuid);
  if (!known) return null;
  return {
    index: known.index,
    uuid: known.uuid,
    name: known.name,
    totalBytes: known.totalBytes,
    usedBytes: null,
    freeBytes: null,
    utilizationGpuPercent: null,
    processes: [],
  };
}

// The guard's own choice wins: what it killed, else signalled or freed,
// planned, warned about or first saw in breach.
const CULPRIT_KINDS: readonly GuardEvent['kind'][] = [
  'kill',
  'signal',
  'freed',
  'plan',
  'warning',
  'breach',
];

function culpritFromGuard(
  events: GuardEvent[],
  evidence: IncidentEvidence,
): Culprit | null {
  for (const kind of CULPRIT_KINDS) {
    const event = events.find((e) => e.kind === kind && e.process !== null);
    if (!event?.process) continue;
    const pid = event.process.pid;
    const mentions = events.filter((e) => e.process?.pid === pid);
    const held = mentions
      .map((e) => e.process?.usedBytes ?? null)
      .filter((b): b is number => b !== null);
    return {
      process: {
        pid,
        name: event.process.name,
        user: event.process.user,
        command: event.process.command,
        unit: event.process.unit,
        usedBytes: event.process.usedBytes,
      },
      gpu: findGpu(evidence, event.gpuUuid),
      heldBytes: held.length > 0 ? Math.max(...held) : null,
      source: 'guard',
      firstSeenMs: Math.min(...mentions.map((e) => e.atMs)),
    };
  }
  return null;
}

function culpritFromSnapshot(worst: SnapshotDigest | null): Culprit | null {
  if (!worst) return null;
  let best: { process: ProcessDigest; gpu: GpuDigest } | null = null;
  for (const gpu of worst.gpus) {
    for (const process of gpu.processes) {
      if (isProtectedProcess(process) || !process.usedBytes) continue;
      if (!best || process.usedBytes > (best.process.usedBytes ?? 0)) {
        best = { process, gpu };
      }
    }
  }
  if (!best) return null;
  return {
    process: best.process,
    gpu: best.gpu,
    heldBytes: best.process.usedBytes,
    source: 'snapshot',
    firstSeenMs: worst.atMs,
  };
}

function worstSnapshot(snapshots: SnapshotDigest[]): SnapshotDigest | null {
  const free = (s: SnapshotDigest): number =>
    s.gpus.reduce((sum, g) => sum + (g.freeBytes ?? Infinity), 0);
  let worst: SnapshotDigest | null = null;
  for (const snapshot of snapshots) {
    if (!worst || free(snapshot) < free(worst)) worst = snapshot;
  }
  return worst;
}

function modelFacts(evidence: IncidentEvidence): ModelFacts | null {
  const seen = evidence.workload
    .map((w) => w.ollama)
    .filter((o) => o !== null && o.model !== null);
  const last = seen.at(-1);
  if (!last?.model) return null;
  const sizes = seen.filter((o) => o?.model === last.model);
  return {
    name: last.model,
    sizeBytes: maxOf(sizes.map((o) => o?.sizeBytes ?? null)),
    sizeVramBytes: maxOf(sizes.map((o) => o?.sizeVramBytes ?? null)),
    peakOffloadedBytes: maxOf(sizes.map((o) => o?.offloadedBytes ?? null)) ?? 0,
    wasNotResident: sizes.some((o) => o?.resident === false),
  };
}

export /** The largest known value; null when none is known. */
function maxOf(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length > 0 ? Math.max(...known) : null;
}

function actedOn(events: GuardEvent[], culprit: Culprit | null): boolean {
  return events.some(
    (e) =>
      isGuardAction(e) &&
      (culprit === null ||
        e.process === null ||
        e.process.pid === culprit.process.pid),
  );
}
