/**
 * The types of the incident manager's interface: its options, its
 * collaborators, its operations and their errors.
 */
import type { Clock } from '../../../shared/src/clock.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { AgentMessage } from '../../../shared/src/messages.ts';
import type { Result } from '../../../shared/src/result.ts';
import type { AlertState } from '../slo/alert-state.ts';
import type { Incident, IncidentStatus } from './incident.ts';
import type { LifecycleEvent } from './lifecycle.ts';
import type { Notifier } from './notifier.ts';

/** Options of `createIncidentManager`; durations in ms. */
export interface IncidentManagerOptions {
  /** Directory of the store (`incidents.json`) and `postmortems/`. */
  dataDir: string;
  /** Clear time before an incident resolves. Default 15 min. */
  holdMs?: number;
  /** A firing this soon after resolving reopens it. Default 1 h. */
  reopenWindowMs?: number;
  /** Evidence gathered from before the open. Default 1 h. */
  evidenceLookbackMs?: number;
  /** Evidence kept per node for the lookback. Default 2 h. */
  evidenceRetentionMs?: number;
  /** SLO latency threshold for counting slow requests. Default 2 s. */
  latencyThresholdMs?: number;
  /** Italic footer line of postmortems. */
  postmortemFooter?: string;
  /** Base URL of the web UI for links in notifications; null for none. */
  externalUrl?: string | null;
}

/** Who serves a workload across the fleet, when the fleet state knows. */
export interface IncidentFleet {
  /** Nodes serving `workload` (e.g. `ollama`); null when unknown. */
  nodesServing(workload: string): string[] | null;
}

/** Collaborators of `createIncidentManager`. */
export interface IncidentManagerDeps {
  clock: Clock;
  logger: Logger;
  fs: Fs;
  notifier?: Notifier;
  fleet?: IncidentFleet;
  /** Source of the 4 hex digits of new IDs; random by default. */
  idSuffix?: () => string;
}

/** Why an operation on an incident was refused. */
export interface IncidentOpError {
  /** `not_found` → HTTP 404; `invalid_transition` → HTTP 409. */
  code: 'not_found' | 'invalid_transition';
  message: string;
}

/** Which incidents {@link IncidentManager.list} returns. */
export interface IncidentFilter {
  status?: IncidentStatus | IncidentStatus[];
  node?: string;
  slo?: string;
}

/** What changed, for live views. */
export interface IncidentChange {
  kind: LifecycleEvent | 'note' | 'evidence' | 'notification';
  /** A copy of the incident after the change. */
  incident: Incident;
}

/** The incident side of the collector. */
export interface IncidentManager {
  /** Applies SLO verdicts; resolves when the store is written. */
  onAlertStates(states: AlertState[], nowMs: number): Promise<void>;
  /** Takes one agent message as evidence (buffered, saved in the background). */
  recordEvidence(node: string, message: AgentMessage): void;
  /** Copies of the matching incidents, newest first. */
  list(filter?: IncidentFilter): Incident[];
  /** A copy of the incident, or null. */
  get(id: string): Incident | null;
  ack(
    id: string,
    by: string,
    note?: string,
  ): Promise<Result<Incident, IncidentOpError>>;
  resolve(
    id: string,
    by: string,
    note?: string,
  ): Promise<Result<Incident, IncidentOpError>>;
  addNote(
    id: string,
    by: string,
    text: string,
  ): Promise<Result<Incident, IncidentOpError>>;
  /** Where the incident's postmortem is written; null for an unknown id. */
  postmortemPath(id: string): string | null;
  /** Writes the postmortem again (keeping human edits) and returns it. */
  postmortemMarkdown(id: string): Promise<Result<string, IncidentOpError>>;
  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: (change: IncidentChange) => void): () => void;
  /** Stops retries, waits for writes. */
  close(): Promise<void>;
}

/** The options with every default filled in. */
export type ManagerSettings = Required<IncidentManagerOptions>;
