/**
 * The collector engine's options, collaborators and views: what the
 * composition root, the gRPC ingest, the dashboard and replay see.
 */
import type { Clock } from '../../../shared/src/clock.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { AgentMessage } from '../../../shared/src/messages.ts';
import type { AlertState, DataState, FiringRule } from '../slo/alert-state.ts';
import type { WindowReading } from '../slo/alert-rules.ts';
import type { SloDefinition } from '../slo/slo-config.ts';

/** Default time between evaluations when buckets are wider than it. */
export const DEFAULT_EVALUATION_INTERVAL_MS = 10_000;

/** Default time between writes of changed bucket series. */
export const DEFAULT_FLUSH_INTERVAL_MS = 60_000;

/** Default chart points kept per SLO × node (one per bucket). */
export const DEFAULT_HISTORY_POINTS = 1440;

/** Options of {@link createCollectorEngine}. */
export interface CollectorEngineConfig {
  slos: SloDefinition[];
  /** Where bucket series persist; `null` keeps them in memory only. */
  dataDir: string | null;
  /** Time between evaluations; default min(bucket width, 10 s). */
  evaluationIntervalMs?: number;
  /** Time between writes of changed series; default 60 s. */
  flushIntervalMs?: number;
  /** Chart points kept per SLO × node; default 1440. */
  historyPoints?: number;
}

/** The incident side as the engine uses it (`IncidentManager` fits). */
export interface IncidentSink {
  onAlertStates(states: AlertState[], nowMs: number): Promise<void>;
  recordEvidence(node: string, message: AgentMessage): void;
}

/** Tells when a node was last heard from (the fleet state fits). */
export interface NodeLiveness {
  /** Ms since epoch of the node's last message; null when unknown. */
  lastSeenMs(node: string): number | null;
}

/** Collaborators of {@link createCollectorEngine}. */
export interface CollectorEngineDeps {
  clock: Clock;
  logger: Logger;
  fs: Fs;
  incidents: IncidentSink;
  fleet?: NodeLiveness;
}

/** One point of an SLO × node's history, for charts. */
export interface SloHistoryPoint {
  atMs: number;
  burnRates: Record<string, number | null>;
  budgetRemainingRatio: number | null;
  dataState: DataState;
}

/** One SLO for one node as of the latest evaluation. */
export interface SloStatus {
  slo: string;
  node: string;
  targetPercent: number;
  evaluatedAtMs: number;
  dataState: DataState;
  burnRates: Record<string, number | null>;
  budgetRemainingRatio: number | null;
  firing: FiringRule | null;
  /** Each rule window with its counts and coverage, shortest first. */
  windows: WindowReading[];
  /** The SLO period's counts (budget), with its coverage. */
  period: WindowReading;
  /** Oldest first, one point per bucket. */
  history: SloHistoryPoint[];
}

/** Counters for /metrics and logs. */
export interface EngineStats {
  /** SLI events counted into some SLO's buckets. */
  eventsCounted: number;
  /** SLI events refused as malformed. */
  eventsInvalid: number;
  /** SLI events older than the SLO period, dropped. */
  eventsTooOld: number;
  /** SLI events stamped in the future, counted in the current bucket. */
  eventsFromFuture: number;
  evaluations: number;
  evaluationErrors: number;
  flushErrors: number;
}

/** The SLO engine behind ingest, dashboard and replay. */
export interface CollectorEngine {
  /** Takes messages from one node (the gRPC ingest's message sink). */
  apply(node: string, messages: AgentMessage[]): Promise<void>;
  /** Judges every SLO × node at `nowMs` and tells the incident side. */
  evaluate(nowMs: number): Promise<AlertState[]>;
  /** Every SLO × node as of the latest evaluation. */
  sloStatus(): SloStatus[];
  stats(): EngineStats;
  /** Loads persisted series, then evaluates and flushes on timers. */
  start(): Promise<void>;
  /** Stops the timers, waits for work in flight, writes what changed. */
  stop(): Promise<void>;
  /** Resolves when evaluations queued by the timer have finished. */
  settle(): Promise<void>;
  /** Writes changed series now. */
  flush(): Promise<void>;
}
