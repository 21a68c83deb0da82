/**
 * Title, impact, blast radius and single points of failure of an incident,
 * from its SLO, its evidence and what the fleet looks like. Pure.
 */
import { formatDurationWords } from '../../../shared/src/units.ts';
import type { IncidentEvidence } from './evidence.ts';
import type { IncidentFacts } from './facts.ts';
import type { Incident } from './incident.ts';
import { isoSeconds } from './incident.ts';
import { burn, nodeLabel, workloadLabel } from './wording.ts';

/** What the fleet says about who serves the incident's workload. */
export interface FleetFacts {
  /** Nodes serving the workload, this one included; null when unknown. */
  nodesServingWorkload: string[] | null;
}

/**
 * The incident title: `Ollama inference latency spike on Jasper`, or
 * `… errors on …` when the evidence shows more failed than slow requests.
 */
export function titleOf(
  sloName: string,
  node: string,
  facts: IncidentFacts | null,
): string {
  const failing =
    facts !== null &&
    facts.requests.failed > 0 &&
    facts.requests.failed > facts.requests.slow;
  const what = failing ? 'errors' : 'latency spike';
  return `${workloadLabel(sloName)} inference ${what} on ${nodeLabel(node)}`;
}

/** The Impact paragraph. */
export function impactOf(
  incident: Pick<
    Incident,
    'node' | 'slo' | 'trigger' | 'peakBurnRate' | 'budgetRemainingRatio'
  >,
  facts: IncidentFacts,
  latencyThresholdMs: number,
): string {
  const workload = workloadLabel(incident.slo.name);
  const model = facts.model ? ` (${facts.model.name})` : '';
  const peak =
    incident.peakBurnRate !== null &&
    incident.peakBurnRate > incident.trigger.burnRate
      ? `, peaking at ${burn(incident.peakBurnRate)}`
      : '';
  const parts = [
    `Requests to ${workload}${model} on ${nodeLabel(incident.node)} were slow or failing: the \`${incident.slo.name}\` SLO (${incident.slo.targetPercent}% target) burned its error budget at ${burn(incident.trigger.burnRate)} over ${incident.trigger.window}${peak}.`,
  ];
  parts.push(...requestSentence(facts, latencyThresholdMs));
  parts.push(...budgetSentence(incident.budgetRemainingRatio));
  return parts.join(' ');
}

/** What was hit: `Jasper GPU inference (…), all clients of Ollama on Jasper`. */
export function blastRadiusOf(
  incident: Pick<Incident, 'node' | 'slo'>,
  facts: IncidentFacts,
  evidence: IncidentEvidence,
): string {
  const node = nodeLabel(incident.node);
  const workload = workloadLabel(incident.slo.name);
  const gpu = facts.culprit?.gpu ?? evidence.snapshots.at(-1)?.gpus[0] ?? null;
  const gpuText = gpu?.name ? ` (GPU ${gpu.index}, ${gpu.name})` : '';
  const model = facts.model ? ` (model ${facts.model.name})` : '';
  return `${node} GPU inference${gpuText}, all clients of ${workload} on ${node}${model}`;
}

/** The single points of failure the fleet state shows. */
export function singlePointsOfFailureOf(
  incident: Pick<Incident, 'node' | 'slo'>,
  evidence: IncidentEvidence,
  fleet: FleetFacts,
): string[] {
  const node = nodeLabel(incident.node);
  const workload = workloadLabel(incident.slo.name);
  const gpus = gpuList(evidence);
  const found: string[] = [];

  if (gpus.length === 1) {
    const name = gpus[0]?.name ? ` (${gpus[0].name})` : '';
    found.push(`Single GPU${name} handles all inference workloads on ${node}`);
  }
  const serving = fleet.nodesServingWorkload;
  if (serving !== null && serving.every((n) => n === incident.node)) {
    found.push(`${node} is the only node serving ${workload}`);
  }
  return found;
}

function gpuList(
  evidence: IncidentEvidence,
): { name: string | null; uuid: string }[] {
  const latest = evidence.snapshots.at(-1);
  if (latest) return latest.gpus;
  return evidence.hello?.gpus ?? [];
}

// Request latency buckets from the SLI events say what users saw; the
// agent's probe latency is one request every few seconds and is left out.
function requestSentence(
  facts: IncidentFacts,
  latencyThresholdMs: number,
): string[] {
  const { total, failed, slow, fromMs, toMs, slowestOverMs } = facts.requests;
  if (total === 0 || fromMs === null || toMs === null) return [];
  const between = `${isoSeconds(fromMs)} to ${isoSeconds(toMs)}`;
  const threshold = formatDurationWords(latencyThresholdMs);
  const counted = `${total} ${total === 1 ? 'request' : 'requests'} the agent counted`;
  if (!facts.requests.degraded) {
    return [
      `The agent counted ${total} requests from ${between}; none took longer than ${threshold} and none failed.`,
    ];
  }
  if (slow === 0) {
    return [
      `From ${between}, ${failed} of the ${counted} failed; none of the others took longer than ${threshold}.`,
    ];
  }
  const slowest =
    slowestOverMs !== null && slowestOverMs > 0
      ? ` (the slowest over ${formatDurationWords(slowestOverMs)})`
      : '';
  const failures = failed === 0 ? 'none' : String(failed);
  return [
    `From ${between}, ${slow} of the ${counted} took longer than ${threshold}${slowest} and ${failures} failed.`,
  ];
}

function budgetSentence(ratio: number | null): string[] {
  if (ratio === null) return [];
  if (ratio < 0) {
    const spent = ((1 - ratio) * 100).toFixed(1);
    return [
      `The SLO period's error budget was used up: ${spent}% of it was spent.`,
    ];
  }
  return [
    `${(ratio * 100).toFixed(1)}% of the SLO period's error budget remained.`,
  ];
}
