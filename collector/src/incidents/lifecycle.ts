/**
 * The incident lifecycle as pure transitions: an incident and one SLO
 * verdict in, the changed incident and what happened out. The manager owns
 * storage, evidence and notifications; this file owns the rules:
 *
 * - a firing rule opens an incident (one per SLO and scope);
 * - a more severe rule raises its severity, never lowers it;
 * - it resolves when the rule has been clear, with data, for `holdMs`, and
 *   `resolvedAt` is when it cleared;
 * - missing data (`no_data`, `no_traffic`, `partial`) never counts as clear:
 *   it restarts the hold;
 * - a firing within `reopenWindowMs` of the resolution reopens it (same
 *   ID); after that window it closes and a firing opens a new one.
 */
import type { AlertState, FiringRule } from '../slo/alert-state.ts';
import { formatDurationWords } from '../../../shared/src/units.ts';
import { emptyEvidence } from './evidence.ts';
import type {
  Incident,
  IncidentTrigger,
  NotificationEventKind,
} from './incident.ts';
import { dedupKeyOf, isActive, isMoreSevere, isoSeconds } from './incident.ts';
import { entry } from './timeline.ts';
import { burn } from './wording.ts';

/** Lifecycle timing. */
export interface LifecycleOptions {
  /** How long the rule must stay clear before the incident resolves, ms. */
  holdMs: number;
  /** How long after resolving a new firing reopens the same incident, ms. */
  reopenWindowMs: number;
}

/** What a transition did; the manager notifies and logs from these. */
export type LifecycleEvent =
  | NotificationEventKind
  | 'cleared'
  | 'refired'
  | 'data_missing'
  | 'data_returned'
  | 'closed'
  | 'acknowledged';

/** A fresh incident for a firing verdict. */
export function openIncident(
  state: AlertState,
  firing: FiringRule,
  id: string,
  relatedIncidents: string[],
): Incident {
  const at = isoSeconds(state.evaluatedAtMs);
  return {
    id,
    dedupKey: dedupKeyOf(state.sloName, state.scope),
    title: '',
    severity: firing.severity,
    status: 'open',
    trigger: triggerOf(firing, state.evaluatedAtMs),
    slo: { ...state.slo },
    node: state.scope,
    openedAt: at,
    resolvedAt: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    closedAt: null,
    durationSeconds: null,
    peakBurnRate: firing.burnRate,
    budgetRemainingRatio: state.budgetRemainingRatio,
    reopenCount: 0,
    relatedIncidents,
    timeline: [
      entry(
        at,
        'opened',
        `${firing.rule} fired: ${burn(firing.burnRate)} over ${firing.window}, ${burn(firing.shortBurnRate)} over ${firing.shortWindow}; opened as ${firing.severity}`,
        { rule: firing.rule, severity: firing.severity },
      ),
    ],
    rootCause: '',
    remediation: [],
    blastRadius: '',
    singlePointsOfFailure: [],
    evidence: emptyEvidence(),
    notifications: [],
    lifecycle: {
      clearSinceMs: null,
      resolvedDecidedAtMs: null,
      suppressUntilClear: false,
      dataMissingSinceMs: null,
      lastFiringAtMs: state.evaluatedAtMs,
    },
  };
}

/**
 * Applies one verdict to an incident of its key that is not closed
 * (in place). Returns what happened, in order.
 */
export function applyAlertState(
  incident: Incident,
  state: AlertState,
  options: LifecycleOptions,
): LifecycleEvent[] {
  if (state.budgetRemainingRatio !== null) {
    incident.budgetRemainingRatio = state.budgetRemainingRatio;
  }
  if (isActive(incident)) return applyToActive(incident, state, options);
  if (incident.status === 'resolved') return applyToResolved(incident, state);
  return [];
}

/** Closes a resolved incident whose reopen window has passed (in place). */
export function closeIfExpired(
  incident: Incident,
  atMs: number,
  options: LifecycleOptions,
): LifecycleEvent[] {
  const decidedMs = incident.lifecycle.resolvedDecidedAtMs;
  if (incident.status !== 'resolved' || decidedMs === null) return [];
  if (atMs - decidedMs < options.reopenWindowMs) return [];
  const closedAtMs = decidedMs + options.reopenWindowMs;
  incident.status = 'closed';
  incident.closedAt = isoSeconds(closedAtMs);
  incident.timeline.push(
    entry(
      incident.closedAt,
      'closed',
      `Closed: no new firing within ${formatDurationWords(options.reopenWindowMs)} of the resolution`,
    ),
  );
  return ['closed'];
}

function applyToActive(
  incident: Incident,
  state: AlertState,
  options: LifecycleOptions,
): LifecycleEvent[] {
  const at = isoSeconds(state.evaluatedAtMs);
  const marks = incident.lifecycle;
  const events: LifecycleEvent[] = [];

  if (state.firing || state.dataState === 'ok') {
    if (marks.dataMissingSinceMs !== null) {
      marks.dataMissingSinceMs = null;
      incident.timeline.push(entry(at, 'data_returned', 'Data is back'));
      events.push('data_returned');
    }
  }
  if (state.firing)
    return [...events, ...onFiring(incident, state, state.firing)];

  if (state.dataState !== 'ok') {
    marks.clearSinceMs = null;
    if (marks.dataMissingSinceMs === null) {
      marks.dataMissingSinceMs = state.evaluatedAtMs;
      incident.timeline.push(
        entry(
          at,
          'data_missing',
          `No usable data (${state.dataState}); the incident stays open until data shows the SLO clear`,
          { dataState: state.dataState },
        ),
      );
      events.push('data_missing');
    }
    return events;
  }
  return [...events, ...onClear(incident, state, options)];
}

function onFiring(
  incident: Incident,
  state: AlertState,
  firing: FiringRule,
): LifecycleEvent[] {
  const at = isoSeconds(state.evaluatedAtMs);
  const marks = incident.lifecycle;
  const events: LifecycleEvent[] = [];

  if (marks.clearSinceMs !== null) {
    const clearMs = state.evaluatedAtMs - marks.clearSinceMs;
    incident.timeline.push(
      entry(
        at,
        'alert_refired',
        `${firing.rule} fired again after ${formatDurationWords(clearMs)} clear; the hold starts over`,
      ),
    );
    marks.clearSinceMs = null;
    events.push('refired');
  }
  marks.lastFiringAtMs = state.evaluatedAtMs;
  incident.peakBurnRate = Math.max(incident.peakBurnRate ?? 0, firing.burnRate);
  if (raiseSeverity(incident, firing, state.evaluatedAtMs)) {
    events.push('escalated');
  }
  return events;
}

function onClear(
  incident: Incident,
  state: AlertState,
  options: LifecycleOptions,
): LifecycleEvent[] {
  const marks = incident.lifecycle;
  const events: LifecycleEvent[] = [];

  if (marks.clearSinceMs === null) {
    marks.clearSinceMs = state.evaluatedAtMs;
    incident.timeline.push(
      entry(
        isoSeconds(state.evaluatedAtMs),
        'alert_cleared',
        `No rule fires; resolving if it stays clear for ${formatDurationWords(options.holdMs)}`,
      ),
    );
    events.push('cleared');
  }
  if (state.evaluatedAtMs - marks.clearSinceMs >= options.holdMs) {
    const clearedMs = marks.clearSinceMs;
    markResolved(incident, clearedMs, state.evaluatedAtMs);
    incident.timeline.push(
      entry(
        isoSeconds(state.evaluatedAtMs),
        'resolved',
        `Resolved: clear since ${isoSeconds(clearedMs)} for ${formatDurationWords(options.holdMs)}`,
      ),
    );
    events.push('resolved');
  }
  return events;
}

function applyToResolved(
  incident: Incident,
  state: AlertState,
): LifecycleEvent[] {
  const marks = incident.lifecycle;
  if (!state.firing) {
    if (state.dataState === 'ok') marks.suppressUntilClear = false;
    return [];
  }
  if (marks.suppressUntilClear) return [];

  const at = isoSeconds(state.evaluatedAtMs);
  incident.status = 'open';
  incident.reopenCount += 1;
  incident.resolvedAt = null;
  incident.durationSeconds = null;
  marks.clearSinceMs = null;
  marks.resolvedDecidedAtMs = null;
  marks.lastFiringAtMs = state.evaluatedAtMs;
  incident.peakBurnRate = Math.max(
    incident.peakBurnRate ?? 0,
    state.firing.burnRate,
  );
  incident.timeline.push(
    entry(
      at,
      'reopened',
      `${state.firing.rule} fired again (${burn(state.firing.burnRate)} over ${state.firing.window}); reopened`,
      { reopenCount: incident.reopenCount },
    ),
  );
  const escalated = raiseSeverity(incident, state.firing, state.evaluatedAtMs);
  return escalated ? ['reopened', 'escalated'] : ['reopened'];
}

function raiseSeverity(
  incident: Incident,
  firing: FiringRule,
  atMs: number,
): boolean {
  if (!isMoreSevere(firing.severity, incident.severity)) return false;
  const from = incident.severity;
  incident.severity = firing.severity;
  incident.trigger = triggerOf(firing, atMs);
  incident.timeline.push(
    entry(
      isoSeconds(atMs),
      'severity_raised',
      `${firing.rule} fired (${burn(firing.burnRate)} over ${firing.window}); severity raised from ${from} to ${firing.severity}`,
      { from, to: firing.severity },
    ),
  );
  return true;
}

/** Marks the incident resolved at `resolvedMs`, decided at `decidedMs`. */
export function markResolved(
  incident: Incident,
  resolvedMs: number,
  decidedMs: number,
): void {
  incident.status = 'resolved';
  incident.resolvedAt = isoSeconds(resolvedMs);
  const openedMs = Date.parse(incident.openedAt);
  incident.durationSeconds = Math.max(
    0,
    Math.round((resolvedMs - openedMs) / 1000),
  );
  incident.lifecycle.resolvedDecidedAtMs = decidedMs;
}

function triggerOf(firing: FiringRule, atMs: number): IncidentTrigger {
  return {
    rule: firing.rule,
    burnRate: firing.burnRate,
    window: firing.window,
    shortBurnRate: firing.shortBurnRate,
    shortWindow: firing.shortWindow,
    threshold: firing.threshold,
    severity: firing.severity,
    at: isoSeconds(atMs),
  };
}
