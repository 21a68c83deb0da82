/**
 * Multiwindow, multi-burn-rate rules (research/slo.md §1, DESIGN §3.4):
 * a rule matches when its long and its short window both burn at least
 * its threshold (`≥`, exact). Evaluated per SLO and scope into the
 * {@link AlertState} the incident lifecycle consumes. Pure.
 */
import type {
  AlertState,
  DataState,
  FiringRule,
  Severity,
} from './alert-state.ts';
import type { BucketSeries, WindowCounts } from './bucket-series.ts';
import { budgetRemainingRatio, burnAtLeast, burnRate } from './burn-rate.ts';
import { budgetPpm, thresholdOf } from './slo-config.ts';
import type { AlertRuleDefinition, SloDefinition } from './slo-config.ts';

/** One window's reading at an evaluation. */
export interface WindowReading {
  name: string;
  durationMs: number;
  good: number;
  total: number;
  /** `null` when the window holds no events. */
  burnRate: number | null;
  /** Share of the window covered since data began, 0..1. */
  coverageRatio: number;
}

/** What one evaluation of one SLO and scope found. */
export interface SloVerdict {
  state: AlertState;
  windows: WindowReading[];
  period: WindowReading;
}

/** Inputs of {@link evaluateSlo}. */
export interface SloEvaluationInput {
  slo: SloDefinition;
  scope: string;
  /** The scope's buckets, `null` when none arrived yet. */
  series: BucketSeries | null;
  nowMs: number;
  /** When the scope's agent last sent anything; null when never. */
  lastSeenMs: number | null;
  /** The verdict of the previous evaluation, held when data is missing. */
  previousFiring: FiringRule | null;
}

type Outcome = 'match' | 'clear' | 'unknown';

/**
 * Evaluates every rule of `slo` at `nowMs`. Windows end with the bucket
 * holding `nowMs − 1` (the newest may be in progress). A rule whose short
 * window is not yet covered since data began cannot match. While the agent
 * is silent (`no_data`) the previous verdict is kept unchanged; a firing
 * rule whose windows are empty (`no_traffic`) stays firing until a window
 * shows it below its threshold.
 */
export function evaluateSlo(input: SloEvaluationInput): SloVerdict {
  const { slo, series, nowMs } = input;
  const endIndex = Math.ceil(nowMs / slo.bucketWidthMs) - 1;
  const read = (durationMs: number): WindowReading =>
    readWindow(slo, series, nowMs, durationMs);

  const windows = distinctWindows(slo).map(read);
  const period = read(slo.periodMs);
  const coveredBuckets = completeBuckets(slo, series, nowMs);
  const outcomes = slo.rules.map((rule) =>
    ruleOutcome(slo, rule, series, endIndex, coveredBuckets),
  );

  const dataState = dataStateOf(input, windows, coveredBuckets);
  const firing =
    dataState === 'no_data'
      ? input.previousFiring
      : pickFiring(slo, outcomes, input.previousFiring, windows);
  return {
    state: {
      sloName: slo.name,
      scope: input.scope,
      evaluatedAtMs: nowMs,
      slo: { name: slo.name, targetPercent: slo.targetPercent },
      dataState,
      burnRates: Object.fromEntries(windows.map((w) => [w.name, w.burnRate])),
      firing,
      budgetRemainingRatio: budgetRemainingRatio(
        period.good,
        period.total,
        budgetPpm(slo),
      ),
    },
    windows,
    period,
  };
}

function readWindow(
  slo: SloDefinition,
  series: BucketSeries | null,
  nowMs: number,
  durationMs: number,
): WindowReading {
  const endIndex = Math.ceil(nowMs / slo.bucketWidthMs) - 1;
  const buckets = durationMs / slo.bucketWidthMs;
  const counts: WindowCounts = series
    ? series.window(endIndex, buckets)
    : { good: 0, total: 0, coveredBuckets: 0 };
  const first = series?.firstIndex() ?? null;
  const coveredMs =
    first === null ? 0 : Math.max(0, nowMs - first * slo.bucketWidthMs);
  return {
    name: windowNameFor(slo, durationMs),
    durationMs,
    good: counts.good,
    total: counts.total,
    burnRate: burnRate(counts.good, counts.total, budgetPpm(slo)),
    coverageRatio: Math.min(1, coveredMs / durationMs),
  };
}

function windowNameFor(slo: SloDefinition, durationMs: number): string {
  for (const rule of slo.rules) {
    if (rule.longWindowMs === durationMs) return rule.longWindow;
    if (rule.shortWindowMs === durationMs) return rule.shortWindow;
  }
  return 'period';
}

/** The rules' windows, shortest first, each once. */
function distinctWindows(slo: SloDefinition): number[] {
  const durations = slo.rules.flatMap((r) => [r.shortWindowMs, r.longWindowMs]);
  return [...new Set(durations)].sort((a, b) => a - b);
}

/** Whole buckets elapsed since data began: an in-progress one is not. */
function completeBuckets(
  slo: SloDefinition,
  series: BucketSeries | null,
  nowMs: number,
): number {
  const first = series?.firstIndex() ?? null;
  if (first === null) return 0;
  return Math.max(0, Math.floor(nowMs / slo.bucketWidthMs) - first);
}

function ruleOutcome(
  slo: SloDefinition,
  rule: AlertRuleDefinition,
  series: BucketSeries | null,
  endIndex: number,
  coveredBuckets: number,
): Outcome {
  const shortBuckets = rule.shortWindowMs / slo.bucketWidthMs;
  if (series === null || coveredBuckets < shortBuckets) return 'unknown';
  const long = series.window(endIndex, rule.longWindowMs / slo.bucketWidthMs);
  const short = series.window(endIndex, shortBuckets);
  const budget = budgetPpm(slo);
  const meets = (w: WindowCounts): boolean | null =>
    w.total === 0
      ? null
      : burnAtLeast(w.good, w.total, budget, rule.thresholdMicros);

  const verdicts = [meets(long), meets(short)];
  if (verdicts.includes(false)) return 'clear';
  return verdicts.includes(null) ? 'unknown' : 'match';
}

function dataStateOf(
  input: SloEvaluationInput,
  windows: WindowReading[],
  coveredBuckets: number,
): DataState {
  const { slo, lastSeenMs, nowMs } = input;
  if (lastSeenMs === null || nowMs - lastSeenMs > slo.noDataAfterMs) {
    return 'no_data';
  }
  const shortestShortMs = Math.min(...slo.rules.map((r) => r.shortWindowMs));
  if (coveredBuckets < shortestShortMs / slo.bucketWidthMs) return 'partial';
  return windows[0]?.total === 0 ? 'no_traffic' : 'ok';
}

function pickFiring(
  slo: SloDefinition,
  outcomes: Outcome[],
  previous: FiringRule | null,
  windows: WindowReading[],
): FiringRule | null {
  const burnOf = (name: string): number =>
    windows.find((w) => w.name === name)?.burnRate ?? 0;
  const candidates: FiringRule[] = [];
  slo.rules.forEach((rule, i) => {
    if (outcomes[i] === 'match') {
      candidates.push(firingRule(rule, burnOf));
    } else if (outcomes[i] === 'unknown' && previous?.rule === rule.name) {
      candidates.push(previous);
    }
  });
  return mostSevere(candidates);
}

function firingRule(
  rule: AlertRuleDefinition,
  burnOf: (name: string) => number,
): FiringRule {
  return {
    rule: rule.name,
    severity: rule.severity,
    burnRate: burnOf(rule.longWindow),
    window: rule.longWindow,
    shortBurnRate: burnOf(rule.shortWindow),
    shortWindow: rule.shortWindow,
    threshold: thresholdOf(rule),
  };
}

const SEVERITY_RANK: Record<Severity, number> = {
  SEV1: 1,
  SEV2: 2,
  SEV3: 3,
  SEV4: 4,
};

/** The most severe rule; ties go to the earlier rule in the config. */
export function mostSevere(rules: FiringRule[]): FiringRule | null {
  let best: FiringRule | null = null;
  for (const rule of rules) {
    if (
      best === null ||
      SEVERITY_RANK[rule.severity] < SEVERITY_RANK[best.severity]
    ) {
      best = rule;
    }
  }
  return best;
}
