/**
 * What the web side reads and does, as ports the collector's composition
 * root fills from the fleet state, the SLO engine and the incident manager.
 * The web code depends on these views only.
 */
import type {
  GuardEvent,
  Hello,
  OllamaStatus,
} from '../../../shared/src/messages.ts';
import type { Snapshot } from '../../../shared/src/snapshot.ts';
import type { DataState, FiringRule } from '../slo/alert-state.ts';

/** One agent's node as the dashboard shows it. */
export interface NodeView {
  node: string;
  connected: boolean;
  /** Last message from the agent, ms since epoch; null if never. */
  lastSeenMs: number | null;
  hello: Hello | null;
  snapshot: Snapshot | null;
  ollama: OllamaStatus | null;
  sampler: {
    source: string | null;
    lastError: string | null;
    stale: boolean;
  } | null;
  /** Recent guard decisions, oldest first. */
  guard: GuardEvent[];
}

/** One point of an SLO's burn-rate history. */
export interface BurnPoint {
  atMs: number;
  burnRates: Record<string, number | null>;
}

/** One SLO for one node. */
export interface SloView {
  slo: string;
  node: string;
  targetPercent: number;
  dataState: DataState;
  burnRates: Record<string, number | null>;
  budgetRemainingRatio: number | null;
  firing: FiringRule | null;
  history: BurnPoint[];
}

/** An incident as the API returns it (DESIGN §3.3 fields at least). */
export interface IncidentView {
  id: string;
  status: string;
  severity: string;
  [field: string]: unknown;
}

/** The outcome of a write action on an incident. */
export type ActionOutcome =
  | { ok: true; incident: IncidentView }
  | { ok: false; status: 404 | 409; message: string };

/** Incident reads and actions. */
export interface IncidentPort {
  list(): IncidentView[];
  get(id: string): IncidentView | null;
  ack(id: string, by: string, note: string | null): Promise<ActionOutcome>;
  resolve(id: string, by: string, note: string | null): Promise<ActionOutcome>;
  addNote(id: string, by: string, text: string): Promise<ActionOutcome>;
  /** The postmortem Markdown, or null when none is written yet. */
  postmortemMarkdown(id: string): Promise<string | null>;
}

/** Which part of the state changed, for the live feed. */
export type ChangeTopic = 'nodes' | 'slos' | 'incidents';

/** Everything the web side needs. */
export interface WebSources {
  nodes(): NodeView[];
  slos(): SloView[];
  incidents: IncidentPort;
  /** Calls `listener` when a part of the state changed. */
  onChange(listener: (topic: ChangeTopic) => void): () => void;
  /** True once the collector's stores are open and ingest listens. */
  isReady(): boolean;
}
