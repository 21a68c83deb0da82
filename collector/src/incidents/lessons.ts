/**
 * Lessons Learned and Action Items, pre-filled from what happened: each
 * line follows from a fact in the evidence or the lifecycle, for people to
 * confirm, edit or strike. Pure.
 */
import { formatBytes, formatDurationWords } from '../../../shared/src/units.ts';
import type { IncidentFacts } from './facts.ts';
import { identifyProcess } from './friendly-names.ts';
import type { Incident } from './incident.ts';
import { nodeLabel, workloadLabel } from './wording.ts';

/** The three lists of Lessons Learned. */
export interface Lessons {
  wentWell: string[];
  wentBadly: string[];
  lucky: string[];
}

/** One row of the Action Items table. */
export interface ActionItem {
  action: string;
  owner: string;
  /** ISO date `YYYY-MM-DD`. */
  due: string;
  status: string;
}

type LessonIncident = Pick<
  Incident,
  | 'node'
  | 'slo'
  | 'trigger'
  | 'severity'
  | 'openedAt'
  | 'resolvedAt'
  | 'reopenCount'
  | 'timeline'
  | 'evidence'
  | 'singlePointsOfFailure'
>;

const DAY_MS = 86_400_000;

/** The lessons the facts support. */
export function lessonsOf(
  incident: LessonIncident,
  facts: IncidentFacts,
  holdMs: number,
): Lessons {
  return {
    wentWell: wentWell(incident, facts, holdMs),
    wentBadly: wentBadly(incident, facts),
    lucky: lucky(facts),
  };
}

/** The action items the facts suggest, due a week apart from the open date. */
export function actionItemsOf(
  incident: LessonIncident,
  facts: IncidentFacts,
): ActionItem[] {
  const actions = suggestedActions(incident, facts);
  const openedMs = Date.parse(incident.openedAt);
  return actions.map((action, i) => ({
    action,
    owner: 'TBD',
    due: new Date(openedMs + (i + 1) * 7 * DAY_MS).toISOString().slice(0, 10),
    status: 'Planned',
  }));
}

function wentWell(
  incident: LessonIncident,
  facts: IncidentFacts,
  holdMs: number,
): string[] {
  const lines = [
    `The \`${incident.trigger.rule}\` burn-rate alert opened this incident by itself with ${incident.severity}, linked to the \`${incident.slo.name}\` SLO`,
  ];
  // From the start of the first SLI interval with bad requests to the open.
  const firstBadMs = facts.requests.firstBadMs;
  const openedMs = Date.parse(incident.openedAt);
  if (firstBadMs !== null && firstBadMs <= openedMs) {
    lines.push(
      `The alert fired within ${formatDurationWords(openedMs - firstBadMs)} of the first slow or failed requests`,
    );
  }
  if (facts.culprit?.source === 'guard') {
    lines.push(
      'The reservation guard named the competing process; no manual search was needed',
    );
  }
  if (facts.actedOn && facts.freed) {
    lines.push(
      `The guard freed ${formatBytes(facts.freed.freedBytes)} by policy, without waiting for a person`,
    );
  }
  const manual = incident.timeline.some(
    (e) => e.kind === 'resolved' && e.actor !== 'system',
  );
  if (incident.resolvedAt !== null && !manual) {
    lines.push(
      `The incident resolved itself once the SLO had been clear for ${formatDurationWords(holdMs)}`,
    );
  }
  return lines;
}

function wentBadly(incident: LessonIncident, facts: IncidentFacts): string[] {
  const workload = workloadLabel(incident.slo.name);
  const node = nodeLabel(incident.node);
  const lines: string[] = [];
  if (facts.hasReservation === false) {
    lines.push(`No VRAM reservation policy existed for ${workload} on ${node}`);
  }
  if (
    isPassive(facts) &&
    facts.hasReservation !== false &&
    facts.culprit &&
    !facts.actedOn
  ) {
    lines.push(
      `The guard was in \`${facts.guardMode}\` mode, so the competing process kept its memory until it was stopped by hand`,
    );
  }
  if (!facts.culprit) {
    lines.push(
      'The evidence did not show what degraded the GPU; manual investigation was required',
    );
  }
  if (facts.model && facts.model.peakOffloadedBytes > 0) {
    lines.push(
      `Part of ${facts.model.name} ran on the CPU (up to ${formatBytes(facts.model.peakOffloadedBytes)} offloaded)`,
    );
  }
  if (incident.reopenCount > 0) {
    lines.push(
      `The alert flapped: the incident reopened ${incident.reopenCount} time${incident.reopenCount === 1 ? '' : 's'}`,
    );
  }
  if (incident.timeline.some((e) => e.kind === 'data_missing')) {
    lines.push(
      "The agent's data was missing for a while, so the SLO could not be judged",
    );
  }
  return lines;
}

function lucky(facts: IncidentFacts): string[] {
  const culprit = facts.culprit;
  if (!culprit) return [];
  const identity = identifyProcess(
    culprit.process.name,
    culprit.process.command,
  );
  // Only tools people run by hand are known to be safe to stop.
  if (!identity.isDevTool) return [];
  const name =
    identity.friendlyName ??
    `\`${culprit.process.name ?? culprit.process.pid}\``;
  return [
    `The competing process (${name}) was not critical and could be stopped right away`,
  ];
}

function suggestedActions(
  incident: LessonIncident,
  facts: IncidentFacts,
): string[] {
  const workload = workloadLabel(incident.slo.name);
  const node = nodeLabel(incident.node);
  const actions: string[] = [];
  if (facts.hasReservation === false && facts.culprit) {
    actions.push(
      `Create a VRAM reservation policy for ${workload} on ${node}${minimumOf(facts)}`,
    );
  }
  if (
    isPassive(facts) &&
    facts.hasReservation &&
    facts.culprit &&
    !facts.actedOn
  ) {
    actions.push(
      `Consider guard mode \`enforce-term\` on ${node}, so processes that take ${workload}'s reserved VRAM are stopped by policy`,
    );
  }
  if (!facts.culprit) {
    actions.push(
      `Find what degraded ${workload} on ${node}; the agent's evidence showed no competing process`,
    );
  }
  const identity = facts.culprit
    ? identifyProcess(facts.culprit.process.name, facts.culprit.process.command)
    : null;
  if (identity?.isDevTool) {
    actions.push(
      `Investigate running dev tools such as ${identity.friendlyName} on a separate GPU or node`,
    );
  }
  if (facts.model && facts.model.peakOffloadedBytes > 0) {
    actions.push(
      `Check that ${facts.model.name} fits in VRAM with its context size, or choose a smaller quantization`,
    );
  }
  if (incident.singlePointsOfFailure.length > 0) {
    actions.push(
      `Add a second GPU or node for ${workload}, so one GPU is not the only path for inference`,
    );
  }
  return actions;
}

function minimumOf(facts: IncidentFacts): string {
  const need = facts.model?.sizeVramBytes ?? facts.model?.sizeBytes ?? null;
  if (need === null) return '';
  const gib = Math.ceil(need / 2 ** 30);
  return ` (minimum ${gib} GiB)`;
}

function isPassive(facts: IncidentFacts): boolean {
  return facts.guardMode === 'warn' || facts.guardMode === 'observe';
}
