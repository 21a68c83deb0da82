/**
 * Turns an agent's SLI event into an SLO's good/total counts. Good means
 * succeeded within the SLO's latency threshold, inclusive (the threshold is
 * one of the agent's bucket bounds, so nothing is interpolated).
 */
import { countGood } from '../../../shared/src/messages.ts';
import type { SliEvent } from '../../../shared/src/messages.ts';
import type { SloDefinition } from './slo-config.ts';

/** Counts for one SLO, or why the event does not count. */
export type SliCounts =
  | { kind: 'counts'; good: number; total: number }
  | { kind: 'ignored' }
  | { kind: 'invalid'; reason: string };

/** The event's good/total for `slo`; `ignored` when another SLI's. */
export function sliCounts(event: SliEvent, slo: SloDefinition): SliCounts {
  if (event.workload !== slo.workload) return { kind: 'ignored' };
  if (slo.events !== 'all' && event.source !== slo.events) {
    return { kind: 'ignored' };
  }
  const problem = checkEvent(event);
  if (problem !== null) return { kind: 'invalid', reason: problem };

  const good = countGood(event, slo.latencyThresholdMs);
  if (good > event.total - event.failed) {
    return {
      kind: 'invalid',
      reason: 'latency counts exceed the successful requests',
    };
  }
  return { kind: 'counts', good, total: event.total };
}

function checkEvent(event: SliEvent): string | null {
  const counts = [event.total, event.failed, ...event.latencyCounts];
  if (!counts.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    return 'counts must be whole numbers ≥ 0';
  }
  if (event.failed > event.total) return 'failed exceeds total';
  if (!Number.isFinite(event.intervalEndMs)) return 'intervalEndMs missing';
  return null;
}

/** The time an event's counts belong to: the end of its interval. */
export function sliEventTimeMs(event: SliEvent): number {
  return event.intervalEndMs - 1;
}
