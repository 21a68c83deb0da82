/**
 * Keeps an incident's words in step with its evidence: title, root cause,
 * resolution steps, blast radius and single points of failure are derived
 * again whenever the evidence or the lifecycle changes. Also turns guard
 * and workload evidence into timeline entries. Pure.
 */
import type { AgentMessage, GuardEvent } from '../../../shared/src/messages.ts';
import type { IncidentEvidence, WorkloadObservation } from './evidence.ts';
import { factsOf } from './facts.ts';
import { blastRadiusOf, singlePointsOfFailureOf, titleOf } from './impact.ts';
import type { FleetFacts } from './impact.ts';
import type { Incident, TimelineEntry } from './incident.ts';
import { isoSeconds } from './incident.ts';
import { entry } from './timeline.ts';
import { remediationOf, rootCauseOf } from './root-cause.ts';

/** Derives the incident's words from its evidence (in place). */
export function refreshNarrative(
  incident: Incident,
  fleet: FleetFacts,
  holdMs: number,
): void {
  const facts = factsOf(incident.evidence);
  incident.title = titleOf(incident.slo.name, incident.node, facts);
  incident.rootCause = rootCauseOf(incident, facts);
  incident.remediation = remediationOf(incident, facts, holdMs);
  incident.blastRadius = blastRadiusOf(incident, facts, incident.evidence);
  incident.singlePointsOfFailure = singlePointsOfFailureOf(
    incident,
    incident.evidence,
    fleet,
  );
}

/** The timeline entry a piece of evidence deserves, or null for none. */
export function timelineEntryFor(message: AgentMessage): TimelineEntry | null {
  const payload = message.payload;
  if (payload.type === 'guard') return guardEntry(payload.guard);
  if (payload.type === 'health' && payload.health.component === 'ollama') {
    const health = payload.health;
    return workloadEntry({
      atMs: health.atMs,
      status: health.status,
      kind: health.kind,
      message: health.message,
      ollama: health.ollama,
    });
  }
  return null;
}

/** The timeline entries of evidence gathered before an incident opened. */
export function timelineEntriesOf(evidence: IncidentEvidence): TimelineEntry[] {
  return [
    ...evidence.guardEvents.map(guardEntry),
    ...evidence.workload.map(workloadEntry),
  ];
}

function guardEntry(event: GuardEvent): TimelineEntry {
  return entry(isoSeconds(event.atMs), 'guard', event.message, {
    guardKind: event.kind,
    gpuUuid: event.gpuUuid,
    pid: event.process?.pid ?? null,
    usedBytes: event.process?.usedBytes ?? null,
    freedBytes: event.freedBytes,
    signal: event.signal,
  });
}

function workloadEntry(observation: WorkloadObservation): TimelineEntry {
  return entry(isoSeconds(observation.atMs), 'workload', observation.message, {
    status: observation.status,
    healthKind: observation.kind,
  });
}
