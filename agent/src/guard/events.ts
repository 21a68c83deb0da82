/**
 * Guard events as people and the collector read them: who, what, how much,
 * and what happens next. Pure text and data builders.
 */
import type {
  GuardEvent,
  GuardEventKind,
  PolicySummary,
  ProcessRef,
} from '../../../shared/src/messages.ts';
import type { GpuProcess } from '../../../shared/src/snapshot.ts';
import { formatBytes, formatDurationWords } from '../../../shared/src/units.ts';
import type { GuardConfig } from './guard-config.ts';
import type { Candidate, Exclusion, GpuDecision } from './types.ts';

type Mode = PolicySummary['mode'];

/** Fields an event adds to what the decision gives. */
export interface EventExtra {
  message: string;
  process?: GpuProcess | null;
  freedBytes?: number | null;
  /** Free memory measured for this event; default the decision's. */
  freeBytes?: number | null;
  signal?: string | null;
  details?: Record<string, unknown>;
}

/** Builds a guard event from a decision. */
export function guardEvent(
  kind: GuardEventKind,
  d: GpuDecision,
  context: { mode: Mode; policyHash: string; atMs: number },
  extra: EventExtra,
): GuardEvent {
  return {
    atMs: context.atMs,
    kind,
    gpuUuid: d.gpuUuid,
    state: d.state,
    mode: context.mode,
    message: extra.message,
    reservedBytes: d.reservation.reservedBytes,
    protectedBytes: d.math?.protectedBytes ?? null,
    freeBytes:
      extra.freeBytes !== undefined
        ? extra.freeBytes
        : (d.math?.freeBytes ?? null),
    deficitBytes: d.math?.deficitBytes ?? null,
    process: extra.process ? processRef(extra.process) : null,
    freedBytes: extra.freedBytes ?? null,
    signal: extra.signal ?? null,
    policyHash: context.policyHash,
    details: extra.details ?? {},
  };
}

/** A process as events name it. */
export function processRef(p: GpuProcess): ProcessRef {
  return {
    pid: p.pid,
    name: p.name,
    user: p.user,
    unit: p.unit ?? null,
    command: p.command,
    usedBytes: p.usedBytes,
  };
}

/** The plan as the audit keeps it: math, candidates, exclusions, harm. */
export function planDetails(d: GpuDecision): Record<string, unknown> {
  const victims = new Set(d.plan.victims.map((v) => v.process.pid));
  return {
    gpuIndex: d.gpuIndex,
    workload: d.reservation.workload,
    model: d.reservation.model,
    reservation: d.math,
    harm: d.harmEvidence,
    breachSinceMs: d.breachSinceMs,
    goalBytes: d.plan.goalBytes,
    feasible: d.plan.feasible,
    candidates: d.candidates.map((c) =>
      candidateRow(c, victims.has(c.process.pid)),
    ),
    excluded: d.excluded.map(exclusionRow),
  };
}

/** Who a process is, in a few words: `python3 (pid 77310, dev, code-tunnel.service)`. */
export function describeProcess(p: GpuProcess): string {
  const parts = [`pid ${p.pid}`, p.user, p.unit ?? p.container].filter(
    (x): x is string => typeof x === 'string' && x.length > 0,
  );
  return `${p.name ?? 'unknown'} (${parts.join(', ')})`;
}

/** The warning text for a victim: who, what, how much, what next. */
export function warningMessage(
  d: GpuDecision,
  victim: Candidate,
  mode: Mode,
  config: GuardConfig,
): string {
  const who = describeProcess(victim.process);
  const what = `holds ${formatBytes(victim.usedBytes)} on GPU ${d.gpuIndex}`;
  const short = formatBytes(d.math?.deficitBytes ?? null);
  const reserve = `${formatBytes(d.reservation.reservedBytes)} ${d.reservation.workload} reservation`;
  return `${who} ${what}; the ${reserve} is ${short} short. Next: ${nextStep(d, mode, config)}`;
}

function nextStep(d: GpuDecision, mode: Mode, config: GuardConfig): string {
  if (d.holdReason === 'rate_limited') {
    return `the kill limit (${config.killsPerGpuPerHour} per hour on this GPU) is used up, so nothing will be killed; an operator must act.`;
  }
  if (mode === 'observe' || mode === 'warn') {
    return `nothing will be killed (${mode} mode); free the memory or stop the process.`;
  }
  if (d.verdict !== 'kill') {
    const grace = formatDurationWords(config.hardGraceMs);
    return `it will be stopped if ${d.reservation.workload} is harmed for ${grace}.`;
  }
  if (mode === 'enforce-term')
    return 'SIGTERM now (no SIGKILL in enforce-term).';
  const grace = formatDurationWords(config.termGraceMs);
  return `SIGTERM now, SIGKILL if it is still there after ${grace}.`;
}

/** What a plan does, as `planAction` in the runtime names it. */
export type PlanAction =
  'warned' | 'kill' | 'terminate' | 'would_kill' | 'would_warn';

/**
 * The plan as a sentence: `GPU 0: plan: stop code-tunnel (pid 7261) to
 * restore the ollama reservation (1002 MiB short)`, or `GPU 0: warned about
 * code-tunnel (pid 7261), which holds 3.0 GiB of the ollama reservation`.
 */
export function planMessage(d: GpuDecision, action: PlanAction): string {
  const gpu = `GPU ${d.gpuIndex}`;
  const who = victimList(d.plan.victims);
  const workload = d.reservation.workload;
  const deficit = d.math?.deficitBytes ?? null;
  const short =
    deficit !== null && deficit > 0 ? ` (${formatBytes(deficit)} short)` : '';
  const restore = `to restore the ${workload} reservation${short}`;
  const held = d.plan.victims.reduce((sum, v) => sum + v.usedBytes, 0);
  const holds = `${d.plan.victims.length === 1 ? 'which holds' : 'which hold'} ${formatBytes(held)} of the ${workload} reservation`;
  switch (action) {
    case 'kill':
      return `${gpu}: plan: stop ${who} ${restore}`;
    case 'terminate':
      return `${gpu}: plan: send SIGTERM to ${who} ${restore}; no SIGKILL in enforce-term mode`;
    case 'would_kill':
      return `${gpu}: would stop ${who} ${restore}, but the guard only observes`;
    case 'would_warn':
      return `${gpu}: would warn about ${who}, ${holds}, but the guard only observes`;
    case 'warned':
      return `${gpu}: warned about ${who}, ${holds}`;
  }
}

function victimList(victims: readonly Candidate[]): string {
  const names = victims.map(
    (v) => `${v.process.name ?? 'unknown'} (pid ${v.process.pid})`,
  );
  if (names.length === 0) return 'no process';
  if (names.length === 1) return names[0]!;
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** The infeasible alert: which consumers block the reservation. */
export function infeasibleMessage(d: GpuDecision): string {
  const blockers = blockersOf(d.excluded)
    .slice(0, 5)
    .map(
      (e) =>
        `${describeProcess(e.process)} ${formatBytes(e.process.usedBytes)}: ${e.reason}`,
    );
  const unattributed = d.math?.unattributedBytes ?? 0;
  if (unattributed > 0) {
    blockers.push(`${formatBytes(unattributed)} unattributed`);
  }
  const short = formatBytes(d.math?.deficitBytes ?? null);
  const list = blockers.length > 0 ? blockers.join('; ') : 'nothing listed';
  return `GPU ${d.gpuIndex}: the ${d.reservation.workload} reservation is ${short} short and no eligible process can free it, so nothing is killed. Blocking: ${list}. Lower the reservation, move these off the GPU, or make their owners eligible.`;
}

/** Excluded consumers with known memory, largest first. */
export function blockersOf(excluded: readonly Exclusion[]): Exclusion[] {
  return excluded
    .filter((e) => (e.process.usedBytes ?? 0) > 0)
    .sort((a, b) => (b.process.usedBytes ?? 0) - (a.process.usedBytes ?? 0));
}

/** The breaker alert: a supervisor brings the victim back. */
export function breakerMessage(d: GpuDecision): string {
  const held = d.excluded.filter((e) => e.reason === 'breaker_open');
  const first = held[0]?.process;
  const unit = first?.unit ?? first?.container ?? null;
  const who = first ? describeProcess(first) : 'a killed process';
  const fix = unit
    ? `stop it for good (systemctl --user mask --now ${unit}, or the system unit), or start it with CUDA_VISIBLE_DEVICES= so it does not use this GPU`
    : 'find what restarts it, or hide this GPU from it with CUDA_VISIBLE_DEVICES=';
  return `${who} came back after it was killed; not killing again. To keep GPU ${d.gpuIndex} free: ${fix}.`;
}

/** The alert for a model left partly on the CPU after a restore. */
export function offloadMessage(d: GpuDecision, ollamaUrl: string): string {
  const model = d.reservation.model ?? '<model>';
  const unload = `curl -s ${ollamaUrl}/api/generate -d '{"model":"${model}","keep_alive":0}'`;
  const load = `curl -s ${ollamaUrl}/api/generate -d '{"model":"${model}","keep_alive":-1}'`;
  return `GPU ${d.gpuIndex} has room again but ${model} is still partly on the CPU; Ollama does not move layers back by itself. Reload it: ${unload} then ${load}`;
}

function candidateRow(c: Candidate, selected: boolean) {
  return {
    pid: c.process.pid,
    name: c.process.name,
    user: c.process.user,
    unit: c.process.unit ?? null,
    startTimeTicks: c.startTimeTicks,
    usedBytes: c.usedBytes,
    culprit: c.culprit,
    selected,
  };
}

function exclusionRow(e: Exclusion) {
  return {
    pid: e.process.pid,
    name: e.process.name,
    user: e.process.user,
    usedBytes: e.process.usedBytes,
    reason: e.reason,
  };
}
