/**
 * Helpers for the burn-rate cases of research/slo.md §12: per-minute
 * buckets `[minute, good, total]` from a fixed origin, judged "at the end
 * of minute m" (the window's last bucket is minute m).
 */
import type { FiringRule } from '../../../collector/src/slo/alert-state.ts';
import { evaluateSlo } from '../../../collector/src/slo/alert-rules.ts';
import type { SloVerdict } from '../../../collector/src/slo/alert-rules.ts';
import { BucketSeries } from '../../../collector/src/slo/bucket-series.ts';
import { defaultSlo } from '../../../collector/src/slo/slo-config.ts';
import type { SloDefinition } from '../../../collector/src/slo/slo-config.ts';

/** Start of minute 0. */
export const ORIGIN_MS = Date.parse('2026-02-28T00:00:00Z');
const MINUTE_MS = 60_000;

/** The default SLO with another target (percent as text, exact). */
export function sloWithTarget(targetPpm: number): SloDefinition {
  return { ...defaultSlo(), targetPpm, targetPercent: targetPpm / 10_000 };
}

/** A series filled with `[minute, bad, total]` rows. */
export function seriesOf(
  rows: [number, number, number][],
  slo: SloDefinition = defaultSlo(),
): BucketSeries {
  const series = new BucketSeries(
    slo.bucketWidthMs,
    slo.periodMs / slo.bucketWidthMs + 1,
  );
  for (const [minute, bad, total] of rows) {
    series.add(ORIGIN_MS / MINUTE_MS + minute, total - bad, total);
  }
  return series;
}

/** Rows for minutes `from..to` with the same counts. */
export function steady(
  from: number,
  to: number,
  bad: number,
  total: number,
): [number, number, number][] {
  const rows: [number, number, number][] = [];
  for (let m = from; m <= to; m += 1) rows.push([m, bad, total]);
  return rows;
}

/** Judges at the end of `minute`, the agent alive unless told. */
export function judgeAt(
  minute: number,
  series: BucketSeries | null,
  options: {
    slo?: SloDefinition;
    previousFiring?: FiringRule | null;
    lastSeenMs?: number | null;
  } = {},
): SloVerdict {
  const nowMs = ORIGIN_MS + (minute + 1) * MINUTE_MS;
  return evaluateSlo({
    slo: options.slo ?? defaultSlo(),
    scope: 'jasper',
    series,
    nowMs,
    lastSeenMs: options.lastSeenMs === undefined ? nowMs : options.lastSeenMs,
    previousFiring: options.previousFiring ?? null,
  });
}
