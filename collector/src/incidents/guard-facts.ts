/**
 * What the guard's own events say about the reservation and the memory it
 * freed: the reservation on the competing process's GPU, the shortfall
 * the guard computed, and the free VRAM after the kill. Pure.
 */
import type { GuardEvent } from '../../../shared/src/messages.ts';
import type { GpuDigest, IncidentEvidence } from './evidence.ts';
import type { Culprit } from './facts.ts';

/** The reservation the guard held for the workload on a GPU. */
export interface ReservationFacts {
  /** VRAM reserved for the workload (model plus working room). */
  reservedBytes: number;
  /** Largest shortfall the guard computed in breach, warning or plan events; null unknown. */
  deficitBytes: number | null;
}

/**
 * Free VRAM on the freed GPU after `freed`: the first snapshot after it,
 * else the event's own figure when it is more than the guard saw before.
 */
export function freeAfter(
  freed: GuardEvent,
  events: GuardEvent[],
  evidence: IncidentEvidence,
): number | null {
  for (const snapshot of evidence.snapshots) {
    if (snapshot.atMs <= freed.atMs) continue;
    const gpu = snapshot.gpus.find((g) => g.uuid === freed.gpuUuid);
    if (gpu?.freeBytes != null) return gpu.freeBytes;
  }
  const before = events
    .filter(
      (e) =>
        e.atMs <= freed.atMs &&
        e !== freed &&
        e.gpuUuid === freed.gpuUuid &&
        e.freeBytes !== null,
    )
    .at(-1);
  const fresh =
    freed.freeBytes !== null &&
    (before?.freeBytes == null || freed.freeBytes > before.freeBytes);
  return fresh ? freed.freeBytes : null;
}

const SHORTFALL_KINDS: readonly GuardEvent['kind'][] = [
  'breach',
  'warning',
  'plan',
];

/** The reservation on the culprit's GPU (hello first, else the events) and the largest shortfall. */
export function reservationFacts(
  evidence: IncidentEvidence,
  culprit: Culprit | null,
): ReservationFacts | null {
  const gpu = culprit?.gpu ?? null;
  const onGpu = evidence.guardEvents.filter(
    (e) =>
      SHORTFALL_KINDS.includes(e.kind) &&
      (gpu === null || e.gpuUuid === gpu.uuid),
  );
  const reservedBytes =
    helloReservation(evidence, gpu) ??
    largest(onGpu.map((e) => e.reservedBytes));
  if (reservedBytes === null) return null;
  const deficits = onGpu
    .map((e) => e.deficitBytes)
    .filter((b): b is number => b !== null && b > 0);
  return {
    reservedBytes,
    deficitBytes: deficits.length > 0 ? Math.max(...deficits) : null,
  };
}

function helloReservation(
  evidence: IncidentEvidence,
  gpu: GpuDigest | null,
): number | null {
  const reservations = evidence.hello?.policy.reservations ?? [];
  const found = reservations.find(
    (r) => gpu === null || r.gpu === gpu.uuid || r.gpu === `index:${gpu.index}`,
  );
  return found?.reservedBytes ?? null;
}

function largest(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length > 0 ? Math.max(...known) : null;
}
