/**
 * The SLO engine's verdict for one SLO and scope at one evaluation: what the
 * incident lifecycle consumes. Produced by the burn-rate engine, consumed by
 * the incident manager; both sides depend only on this file.
 */

/** Incident severities, SEV1 the worst. */
export type Severity = 'SEV1' | 'SEV2' | 'SEV3' | 'SEV4';

/** Whether the windows had events to judge. */
export type DataState =
  /** Events arrived; burn rates are meaningful. */
  | 'ok'
  /** The agent is alive but the workload served no requests. */
  | 'no_traffic'
  /** The agent is silent: nothing can be said. */
  | 'no_data'
  /** Since start, the short window of a rule is not yet covered. */
  | 'partial';

/** A rule whose long and short windows both reached its threshold. */
export interface FiringRule {
  /** Rule name, e.g. `slo_high_burn`. */
  rule: string;
  severity: Severity;
  /** Burn over the long window, e.g. 3.2. */
  burnRate: number;
  /** Long window name, e.g. `rolling_1h`. */
  window: string;
  shortBurnRate: number;
  shortWindow: string;
  threshold: number;
}

/** The verdict for one SLO and scope (node) at `evaluatedAtMs`. */
export interface AlertState {
  sloName: string;
  /** The scope the SLO is evaluated for: the node name. */
  scope: string;
  evaluatedAtMs: number;
  slo: { name: string; targetPercent: number };
  dataState: DataState;
  /** Burn rate per window name; `null` when the window has no events. */
  burnRates: Record<string, number | null>;
  /** The most severe firing rule, or `null` when none fires. */
  firing: FiringRule | null;
  /** Error budget left over the SLO period, 1 = untouched; null unknown. */
  budgetRemainingRatio: number | null;
}
