/**
 * The root-cause statement and the resolution steps, in plain words a
 * person would write, from the facts the agent's evidence establishes.
 * Blameless: it says what held the memory and what happened, never who.
 */
import { formatBytes, formatDurationWords } from '../../../shared/src/units.ts';
import type { GuardEvent } from '../../../shared/src/messages.ts';
import type { IncidentFacts } from './facts.ts';
import { describeProcess, identifyProcess } from './friendly-names.ts';
import type { Incident } from './incident.ts';
import { isoSeconds } from './incident.ts';
import { burn, gpuName, workloadLabel } from './wording.ts';

/** The incident fields the statements read. */
export type AnalysedIncident = Pick<
  Incident,
  'node' | 'slo' | 'trigger' | 'status' | 'resolvedAt' | 'timeline'
>;

/** The root-cause statement: one paragraph. */
export function rootCauseOf(
  incident: AnalysedIncident,
  facts: IncidentFacts,
): string {
  const workload = workloadLabel(incident.slo.name);
  const sentences = facts.culprit
    ? culpritSentences(facts, workload)
    : [
        `The agent's evidence names no process competing for VRAM on ${incident.node} during this incident; the \`${incident.slo.name}\` SLO burned its error budget at ${burn(incident.trigger.burnRate)} over ${incident.trigger.window}. The cause is not yet known.`,
      ];

  sentences.push(...modelSentences(facts, workload));
  sentences.push(...policySentences(facts, incident.node, workload));
  return sentences.join(' ');
}

/** The numbered resolution steps (without numbers). */
export function remediationOf(
  incident: AnalysedIncident,
  facts: IncidentFacts,
  holdMs: number,
): string[] {
  const steps: string[] = [];
  const culprit = facts.culprit ? describeProcess(facts.culprit.process) : null;
  const detected =
    [facts.firstBreach, facts.firstWarning]
      .filter((e) => e !== null)
      .sort((a, b) => a.atMs - b.atMs)[0] ?? null;

  if (culprit && facts.culprit && detected) {
    steps.push(
      `The reservation guard found the competing process at ${isoSeconds(detected.atMs)}: ${culprit} held ${formatBytes(facts.culprit.heldBytes)} on ${gpuName(facts.culprit.gpu)}`,
    );
  }
  for (const signal of facts.signals) steps.push(signalStep(signal, culprit));
  if (facts.kill) steps.push(killStep(facts.kill, culprit));
  if (facts.freed) steps.push(freedStep(facts.freed, facts.freeAfterBytes));
  if (!facts.actedOn && culprit && facts.guardMode !== null) {
    steps.push(
      `The guard took no action against ${culprit} (mode \`${facts.guardMode}\`)`,
    );
  }
  steps.push(...closingSteps(incident, facts, holdMs));
  return steps;
}

function culpritSentences(facts: IncidentFacts, workload: string): string[] {
  const culprit = facts.culprit;
  if (!culprit) return [];
  const gpu = culprit.gpu;
  const total = gpu?.totalBytes ?? null;
  const held = `${describeProcess(culprit.process)} held ${formatBytes(culprit.heldBytes)} of VRAM on ${gpuName(gpu, total)}`;
  const why = whyItDidNotFit(facts, workload);
  const sentences = why
    ? [`${held}.`, why]
    : [roomSentence(held, facts, workload)];
  const worstGpu = facts.worst?.gpus.find((g) => g.uuid === gpu?.uuid);
  if (facts.worst && worstGpu && worstGpu.freeBytes !== null) {
    const busy =
      worstGpu.utilizationGpuPercent !== null
        ? ` and was ${worstGpu.utilizationGpuPercent}% busy`
        : '';
    sentences.push(
      `At the worst moment (${isoSeconds(facts.worst.atMs)}) the GPU had ${formatBytes(worstGpu.freeBytes)} free${busy}.`,
    );
  }
  return sentences;
}

// With a reservation, the guard's own arithmetic says why it spilled: the
// model plus the room kept free did not fit, by the shortfall it computed.
function whyItDidNotFit(facts: IncidentFacts, workload: string): string | null {
  const reservation = facts.reservation;
  if (!reservation || reservation.deficitBytes === null) return null;
  const model = facts.model;
  const need = model?.sizeVramBytes ?? model?.sizeBytes ?? null;
  const modelPart =
    model && need !== null
      ? `${workload}'s model ${model.name} needs ${formatBytes(need)}, and the guard reserves ${formatBytes(reservation.reservedBytes)} for ${workload}${reservation.reservedBytes > need ? ': the model plus room to run it' : ''}`
      : `The guard reserves ${formatBytes(reservation.reservedBytes)} of VRAM for ${workload}`;
  const spilled =
    model && (model.peakOffloadedBytes > 0 || model.wasNotResident)
      ? ', so the model no longer fitted'
      : `, so ${workload} lacked the room it needs`;
  return `${modelPart}. With ${shortName(facts)} on the GPU that reservation was ${formatBytes(reservation.deficitBytes)} short${spilled}.`;
}

// Without the guard's figures: what the GPU's size leaves for the workload.
function roomSentence(
  held: string,
  facts: IncidentFacts,
  workload: string,
): string {
  const total = facts.culprit?.gpu?.totalBytes ?? null;
  const heldBytes = facts.culprit?.heldBytes ?? null;
  if (total === null || heldBytes === null) return `${held}.`;
  const room = total - heldBytes;
  const leaving = `${held}, leaving at most ${formatBytes(room)} for ${workload}`;
  const model = facts.model;
  const need = model?.sizeVramBytes ?? model?.sizeBytes ?? null;
  if (!model || need === null) return `${leaving}.`;
  if (room < need) {
    return `${leaving}, less than the ${formatBytes(need)} its model ${model.name} needs.`;
  }
  return `${leaving}. Its model ${model.name} needs ${formatBytes(need)}, which left at most ${formatBytes(room - need)} for its context and everything else on the GPU.`;
}

function shortName(facts: IncidentFacts): string {
  const process = facts.culprit?.process;
  if (!process) return 'the competing process';
  const identity = identifyProcess(process.name, process.command);
  return identity.friendlyName ?? `\`${process.name ?? process.pid}\``;
}

function modelSentences(facts: IncidentFacts, workload: string): string[] {
  const model = facts.model;
  if (!model) return [];
  const sentences: string[] = [];
  if (model.peakOffloadedBytes > 0) {
    sentences.push(
      `${workload} kept up to ${formatBytes(model.peakOffloadedBytes)} of ${model.name} in system RAM, so part of the model ran on the CPU.`,
    );
  }
  if (model.wasNotResident) {
    sentences.push(`At times ${model.name} was not loaded on the GPU at all.`);
  }
  return sentences;
}

function policySentences(
  facts: IncidentFacts,
  node: string,
  workload: string,
): string[] {
  if (facts.hasReservation === false) {
    return [
      `No VRAM reservation policy for ${workload} was in force on ${node}, so nothing kept that room free.`,
    ];
  }
  const passive = facts.guardMode === 'warn' || facts.guardMode === 'observe';
  if (facts.hasReservation && passive && facts.culprit && !facts.actedOn) {
    return [
      `The reservation guard was in \`${facts.guardMode}\` mode, so it reported the process but did not stop it.`,
    ];
  }
  return [];
}

function signalStep(event: GuardEvent, culprit: string | null): string {
  const who = event.process ? describeProcess(event.process) : culprit;
  return `The guard sent ${event.signal ?? 'a signal'} to ${who ?? 'the competing process'} at ${isoSeconds(event.atMs)}`;
}

function killStep(event: GuardEvent, culprit: string | null): string {
  const who = event.process ? describeProcess(event.process) : culprit;
  const how = event.signal ? ` (${event.signal})` : '';
  return `The guard killed ${who ?? 'the competing process'}${how} at ${isoSeconds(event.atMs)}`;
}

function freedStep(event: GuardEvent, freeAfterBytes: number | null): string {
  const after =
    freeAfterBytes !== null
      ? `; ${formatBytes(freeAfterBytes)} free afterwards`
      : '';
  return `VRAM freed: ${formatBytes(event.freedBytes)}${after}`;
}

function closingSteps(
  incident: AnalysedIncident,
  facts: IncidentFacts,
  holdMs: number,
): string[] {
  const manual = incident.timeline.find(
    (e) => e.kind === 'resolved' && e.actor !== 'system',
  );
  if (manual) {
    const note = manual.data?.note ? `: ${String(manual.data.note)}` : '';
    return [`A responder marked the incident resolved at ${manual.at}${note}`];
  }
  if (incident.resolvedAt === null) {
    return ['The incident is still open'];
  }
  const clearedMs = Date.parse(incident.resolvedAt);
  const actionMs =
    facts.freed?.atMs ?? facts.kill?.atMs ?? facts.signals[0]?.atMs ?? null;
  const within =
    actionMs !== null && clearedMs >= actionMs
      ? ` within ${formatDurationWords(clearedMs - actionMs)} of the action`
      : '';
  const lastBad = facts.requests.lastBadEndMs;
  const quiet =
    lastBad !== null && lastBad <= clearedMs
      ? ` (the last slow or failed request was counted by ${isoSeconds(lastBad)})`
      : '';
  return [
    `The SLO alert cleared at ${incident.resolvedAt}${within}${quiet}; it stayed clear for ${formatDurationWords(holdMs)}, so the incident resolved itself`,
  ];
}
