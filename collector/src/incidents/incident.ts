/**
 * The incident model (DESIGN §3.3): what the store keeps, the REST API
 * returns and the postmortem writer reads. Times are ISO 8601 UTC strings
 * in the stored shape (people read the store); lifecycle bookkeeping that
 * only the manager needs keeps epoch milliseconds.
 */
import type { Severity } from '../slo/alert-state.ts';
import type { IncidentEvidence } from './evidence.ts';

/** Where an incident is in its life. */
export type IncidentStatus =
  /** The rule fires (or did, and has not been clear for the hold period). */
  | 'open'
  /** As `open`, and a person said they are on it. */
  | 'acknowledged'
  /** Clear for the hold period, or resolved by a person; may reopen. */
  | 'resolved'
  /** The reopen window passed; a new firing opens a new incident. */
  | 'closed';

/** The rule that set the incident's current severity. */
export interface IncidentTrigger {
  /** Rule name, e.g. `slo_high_burn`. */
  rule: string;
  /** Burn over the long window when the rule fired, e.g. 3.2. */
  burnRate: number;
  /** Long window name, e.g. `rolling_1h`. */
  window: string;
  shortBurnRate: number;
  shortWindow: string;
  /** The burn multiple the rule compares against. */
  threshold: number;
  severity: Severity;
  /** When the rule fired, ISO 8601 UTC. */
  at: string;
}

/** Kinds of timeline entries; lifecycle first, then evidence. */
export type TimelineKind =
  | 'opened'
  | 'severity_raised'
  | 'alert_cleared'
  | 'alert_refired'
  | 'data_missing'
  | 'data_returned'
  | 'resolved'
  | 'reopened'
  | 'closed'
  | 'acknowledged'
  | 'note'
  | 'notification_sent'
  | 'notification_failed'
  | 'guard'
  | 'workload';

/** One line of an incident's story. */
export interface TimelineEntry {
  /** ISO 8601 UTC. */
  at: string;
  kind: TimelineKind;
  /** `system`, or who acted through the API or CLI. */
  actor: string;
  /** One line for people. */
  text: string;
  /** Structured facts (guard event kind, pid, bytes, attempt, …). */
  data?: Record<string, unknown>;
}

/** The notification events channels can subscribe to. */
export type NotificationEventKind =
  'opened' | 'escalated' | 'reopened' | 'resolved';

/** One notification owed to one channel, persisted so none is lost. */
export interface NotificationRecord {
  /** Unique per incident: `<event>-<n>:<channel index>`. */
  key: string;
  event: NotificationEventKind;
  /** Index of the channel in the configured notifications list. */
  channel: number;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  /** ISO 8601 UTC of the event the notification reports. */
  at: string;
}

/** Lifecycle bookkeeping the manager needs between evaluations. */
export interface LifecycleMarks {
  /** First evaluation that saw the rule clear with good data; null when firing. */
  clearSinceMs: number | null;
  /** When the resolution was decided (clear + hold, or by a person). */
  resolvedDecidedAtMs: number | null;
  /** After a manual resolve: ignore firing until the rule is seen clear. */
  suppressUntilClear: boolean;
  /** Since when data has been missing; null while data flows. */
  dataMissingSinceMs: number | null;
  /** Last evaluation that saw the rule fire. */
  lastFiringAtMs: number | null;
}

/** An incident (DESIGN §3.3). */
export interface Incident {
  /** `INC-YYYYMMDD-xxxx`: UTC open date, 4 lowercase hex digits. */
  id: string;
  /** One open incident per key: `slo:<slo name>:node=<node>`. */
  dedupKey: string;
  title: string;
  /** Highest severity reached; never lowered. */
  severity: Severity;
  status: IncidentStatus;
  trigger: IncidentTrigger;
  slo: { name: string; targetPercent: number };
  node: string;
  /** ISO 8601 UTC of the first firing evaluation. */
  openedAt: string;
  /** ISO 8601 UTC of when the rule cleared (or a person resolved it). */
  resolvedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  closedAt: string | null;
  /** `resolvedAt − openedAt` in seconds; null while unresolved. */
  durationSeconds: number | null;
  /** Highest long-window burn seen while open. */
  peakBurnRate: number | null;
  /** Error budget left at the last evaluation, 1 = untouched. */
  budgetRemainingRatio: number | null;
  reopenCount: number;
  /** Earlier incidents of the same key (closed before this one opened). */
  relatedIncidents: string[];
  timeline: TimelineEntry[];
  /** Plain-words statement from the evidence. */
  rootCause: string;
  /** Numbered resolution steps, from the evidence and the lifecycle. */
  remediation: string[];
  blastRadius: string;
  singlePointsOfFailure: string[];
  evidence: IncidentEvidence;
  notifications: NotificationRecord[];
  lifecycle: LifecycleMarks;
}

/** The key that makes one incident per SLO and scope. */
export function dedupKeyOf(sloName: string, scope: string): string {
  return `slo:${sloName}:node=${scope}`;
}

/**
 * An incident ID for an incident opened at `openedAtMs`, with `hex4` as its
 * suffix (4 lowercase hex digits, e.g. from a random source).
 */
export function incidentIdFor(openedAtMs: number, hex4: string): string {
  const date = new Date(openedAtMs).toISOString().slice(0, 10);
  return `INC-${date.replaceAll('-', '')}-${hex4}`;
}

/** True when `id` has the `INC-YYYYMMDD-xxxx` form. */
export function isIncidentId(id: string): boolean {
  return /^INC-\d{8}-[0-9a-f]{4}$/.test(id);
}

/** ISO 8601 UTC without milliseconds, as the postmortem shows times. */
export function isoSeconds(atMs: number): string {
  return new Date(atMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** True while the incident is not resolved or closed. */
export function isActive(incident: Incident): boolean {
  return incident.status === 'open' || incident.status === 'acknowledged';
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = {
  SEV1: 1,
  SEV2: 2,
  SEV3: 3,
  SEV4: 4,
};

/** True when `a` is more severe than `b` (SEV1 beats SEV2). */
export function isMoreSevere(a: Severity, b: Severity): boolean {
  return SEVERITY_RANK[a] < SEVERITY_RANK[b];
}
