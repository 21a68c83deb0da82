/**
 * Reservation arithmetic and the candidate list of one GPU, from one
 * snapshot. Pure. Formulas from research/enforcement.md §8.3.
 */
import type { GpuProcess, GpuSnapshot } from '../../../shared/src/snapshot.ts';
import {
  isProtectedWorkload,
  neverKillReason,
  policyReason,
  respawnKeyOf,
} from './classify.ts';
import type { ClassifyContext } from './classify.ts';
import type { GuardConfig, Reservation } from './guard-config.ts';
import type {
  Candidate,
  Exclusion,
  ReservationMath,
  WorkloadState,
} from './types.ts';

/** Finds the GPU a reservation names in a snapshot's GPU list. */
export function findReservedGpu(
  gpus: readonly GpuSnapshot[],
  reservation: Reservation,
): GpuSnapshot | null {
  const found = gpus.find((g) =>
    reservation.gpuUuid !== null
      ? g.uuid === reservation.gpuUuid
      : g.index === reservation.gpuIndex,
  );
  return found ?? null;
}

/** Pids of every protected-workload process in the snapshot. */
export function protectedPidsOf(
  gpus: readonly GpuSnapshot[],
  ctx: Pick<ClassifyContext, 'config' | 'ancestry'>,
): Set<number> {
  const pids = new Set<number>();
  const all = gpus.flatMap((g) => g.processes);
  // Two passes so a child listed before its protected parent is found too.
  for (let pass = 0; pass < 2; pass += 1) {
    for (const p of all) {
      if (isProtectedWorkload(p, { ...ctx, protectedPids: pids })) {
        pids.add(p.pid);
      }
    }
  }
  return pids;
}

/**
 * The arithmetic for one GPU; `null` when the driver cannot tell its free
 * memory (nothing can be decided then). Memory of processes the driver
 * lists as unknown stays in the unattributed term.
 */
export function computeReservation(
  gpu: GpuSnapshot,
  reservation: Reservation,
  config: GuardConfig,
  protectedPids: ReadonlySet<number>,
  workload: WorkloadState | null,
): ReservationMath | null {
  const freeBytes = gpu.memory.freeBytes;
  if (freeBytes === null) return null;

  const known = gpu.processes.filter((p) => p.usedBytes !== null);
  const isProtected = (p: GpuProcess) => protectedPids.has(p.pid);
  const protectedAll = sum(known.filter(isProtected));
  const otherBytes = sum(known.filter((p) => !isProtected(p)));
  const protectedBytes = workload?.modelResident === false ? 0 : protectedAll;
  const usedBytes = gpu.memory.usedBytes;
  const unattributedBytes =
    usedBytes === null
      ? null
      : Math.max(0, usedBytes - protectedAll - otherBytes);

  const availableBytes = freeBytes + protectedBytes - config.marginBytes;
  const deficitBytes = reservation.reservedBytes - availableBytes;
  return {
    totalBytes: gpu.memory.totalBytes,
    usedBytes,
    freeBytes,
    protectedBytes,
    otherBytes,
    unattributedBytes,
    unknownProcesses: gpu.processes.length - known.length,
    marginBytes: config.marginBytes,
    availableBytes,
    reservedBytes: reservation.reservedBytes,
    deficitBytes,
    needBytes: deficitBytes + config.minReclaimBytes,
  };
}

/** Inputs of {@link splitCandidates} beyond the GPU. */
export interface SplitOptions {
  ctx: ClassifyContext;
  /** When the GPU last met its reservation; `null` when never seen so. */
  lastCompliantAtMs: number | null;
  /** When the guard first saw each identity (`pid:startTicks`) on it. */
  firstSeenAtMs: ReadonlyMap<string, number>;
  /** Respawn keys whose breaker is open. */
  openBreakers: ReadonlySet<string>;
}

/** Splits a GPU's processes into candidates and exclusions with reasons. */
export function splitCandidates(
  gpu: GpuSnapshot,
  options: SplitOptions,
): { candidates: Candidate[]; excluded: Exclusion[] } {
  const candidates: Candidate[] = [];
  const excluded: Exclusion[] = [];
  for (const p of gpu.processes) {
    const reason =
      neverKillReason(p, options.ctx) ??
      policyReason(p, options.ctx.config.eligible);
    const respawnKey = respawnKeyOf(p);
    if (reason !== null) {
      excluded.push({ process: p, reason });
    } else if (options.openBreakers.has(respawnKey)) {
      excluded.push({ process: p, reason: 'breaker_open' });
    } else {
      candidates.push(toCandidate(p, respawnKey, options));
    }
  }
  return { candidates, excluded };
}

/** The key the guard remembers a process by: pid and start ticks. */
export function identityKey(p: GpuProcess): string {
  return `${p.pid}:${p.startTimeTicks ?? '?'}`;
}

function toCandidate(
  p: GpuProcess,
  respawnKey: string,
  options: SplitOptions,
): Candidate {
  const seenAtMs = options.firstSeenAtMs.get(identityKey(p)) ?? null;
  const culprit =
    options.lastCompliantAtMs !== null &&
    seenAtMs !== null &&
    seenAtMs > options.lastCompliantAtMs;
  return {
    process: p,
    usedBytes: p.usedBytes ?? 0,
    startTimeTicks: p.startTimeTicks ?? 0,
    culprit,
    respawnKey,
  };
}

function sum(list: readonly GpuProcess[]): number {
  return list.reduce((total, p) => total + (p.usedBytes ?? 0), 0);
}
