/**
 * What users saw: the requests the agent counted (SLI events, per minute)
 * over the incident window, how many were too slow or failed, and the
 * slowest latency bucket reached. Pure.
 */
import { LATENCY_BOUNDS_MS } from '../../../shared/src/messages.ts';
import type { SliMinute } from './evidence.ts';

const MINUTE_MS = 60_000;

/** Requests in the incident window. */
export interface RequestFacts {
  /** All requests in the window, failed ones included. */
  total: number;
  failed: number;
  /** Successful but slower than the SLO's latency threshold. */
  slow: number;
  /** Start of the first and end of the last minute counted; null if none. */
  fromMs: number | null;
  toMs: number | null;
  /**
   * True when the window is the stretch with slow or failed requests
   * (first to last such minute); false when none were bad and the window
   * is all the evidence.
   */
  degraded: boolean;
  /**
   * Lower bound of the slowest latency bucket a successful request fell
   * in, ms (`3000`: the slowest took over 3 s); 0 for the fastest bucket,
   * null when unknown.
   */
  slowestOverMs: number | null;
  /** Start of the first SLI interval with slow or failed requests; null if none. */
  firstBadMs: number | null;
  /** End of the last SLI interval with slow or failed requests; null if none. */
  lastBadEndMs: number | null;
}

/** The request facts of an incident's SLI minutes. */
export function requestFacts(sli: readonly SliMinute[]): RequestFacts {
  const minutes = [...sli].sort((a, b) => a.minuteStartMs - b.minuteStartMs);
  const bad = minutes.filter((m) => m.failed + m.slow > 0);
  const firstBad = bad[0];
  const lastBad = bad.at(-1);
  const window =
    firstBad && lastBad
      ? minutes.filter(
          (m) =>
            m.minuteStartMs >= firstBad.minuteStartMs &&
            m.minuteStartMs <= lastBad.minuteStartMs,
        )
      : minutes;
  const sum = (pick: (m: SliMinute) => number): number =>
    window.reduce((total, m) => total + pick(m), 0);

  return {
    total: sum((m) => m.total),
    failed: sum((m) => m.failed),
    slow: sum((m) => m.slow),
    fromMs: window[0]?.minuteStartMs ?? null,
    toMs: window.length > 0 ? window.at(-1)!.minuteStartMs + MINUTE_MS : null,
    degraded: firstBad !== undefined,
    slowestOverMs: slowestOver(window),
    firstBadMs: firstBad
      ? (firstBad.firstBadMs ?? firstBad.minuteStartMs)
      : null,
    lastBadEndMs: lastBad
      ? (lastBad.lastBadEndMs ?? lastBad.minuteStartMs + MINUTE_MS)
      : null,
  };
}

function slowestOver(window: readonly SliMinute[]): number | null {
  let slowest = -1;
  let known = false;
  for (const minute of window) {
    if (!minute.latencyCounts) continue;
    known = true;
    minute.latencyCounts.forEach((count, i) => {
      if (count > 0 && i > slowest) slowest = i;
    });
  }
  if (!known || slowest < 0) return null;
  return slowest === 0 ? 0 : (LATENCY_BOUNDS_MS[slowest - 1] ?? null);
}
