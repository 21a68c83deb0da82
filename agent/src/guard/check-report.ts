/**
 * What `gpuwarden-agent check` shows: per reserved GPU, the arithmetic, the
 * plan the guard would make now, and the reason for every process. Pure:
 * data in, data or text out.
 */
import type { Snapshot } from '../../../shared/src/snapshot.ts';
import { formatBytes, formatDurationWords } from '../../../shared/src/units.ts';
import type { GuardConfig, GuardMode } from './guard-config.ts';
import type { GpuDecision, ReservationMath } from './types.ts';

/** One process in the report. */
export interface CheckProcess {
  pid: number;
  name: string | null;
  user: string | null;
  usedBytes: number | null;
  /** `victim` (chosen now), `candidate`, or `excluded`. */
  role: 'victim' | 'candidate' | 'excluded';
  /** Why: the exclusion reason, or why it is (or is not) chosen. */
  reason: string;
}

/** One reserved GPU in the report. */
export interface CheckGpu {
  gpuUuid: string;
  gpuIndex: number;
  workload: string;
  model: string | null;
  mode: GuardMode;
  math: ReservationMath | null;
  /** `nothing`, `record`, `warn`, `kill`, `infeasible` or `unknown`. */
  wouldDo: string;
  /** The same, in a sentence. */
  summary: string;
  processes: CheckProcess[];
}

/** The whole report (`check --json`). */
export interface CheckReport {
  node: string;
  takenAt: string;
  source: string;
  killSwitch: boolean;
  gpus: CheckGpu[];
  /** Reservations whose GPU is not in the snapshot. */
  missing: string[];
}

/** Builds the report from one plan per reserved GPU. */
export function checkReport(
  snapshot: Snapshot,
  config: GuardConfig,
  decisions: readonly GpuDecision[],
  killSwitch: boolean,
): CheckReport {
  const found = new Set(decisions.map((d) => d.reservation));
  return {
    node: snapshot.node,
    takenAt: snapshot.takenAt,
    source: snapshot.source,
    killSwitch,
    gpus: decisions.map((d) => checkGpu(d, config, killSwitch)),
    missing: config.reservations
      .filter((r) => !found.has(r))
      .map((r) => r.gpuUuid ?? `index:${r.gpuIndex}`),
  };
}

function checkGpu(
  d: GpuDecision,
  config: GuardConfig,
  killSwitch: boolean,
): CheckGpu {
  const enforcing =
    d.reservation.mode === 'enforce' || d.reservation.mode === 'enforce-term';
  const mode = killSwitch && enforcing ? 'warn' : d.reservation.mode;
  const [wouldDo, summary] = outlook(d, mode, config);
  const victims = new Set(d.plan.victims.map((v) => v.process.pid));
  const processes: CheckProcess[] = [
    ...d.candidates.map((c) => ({
      pid: c.process.pid,
      name: c.process.name,
      user: c.process.user,
      usedBytes: c.usedBytes,
      role: victims.has(c.process.pid)
        ? ('victim' as const)
        : ('candidate' as const),
      reason: victims.has(c.process.pid)
        ? 'chosen: fewest processes that restore the reservation'
        : 'eligible, not needed',
    })),
    ...d.excluded.map((e) => ({
      pid: e.process.pid,
      name: e.process.name,
      user: e.process.user,
      usedBytes: e.process.usedBytes,
      role: 'excluded' as const,
      reason: e.reason,
    })),
  ].sort((a, b) => (b.usedBytes ?? -1) - (a.usedBytes ?? -1));
  return {
    gpuUuid: d.gpuUuid,
    gpuIndex: d.gpuIndex,
    workload: d.reservation.workload,
    model: d.reservation.model,
    mode,
    math: d.math,
    wouldDo,
    summary,
    processes,
  };
}

function outlook(
  d: GpuDecision,
  mode: GuardMode,
  config: GuardConfig,
): [string, string] {
  if (!d.math)
    return ['unknown', 'free memory unknown; the guard cannot decide'];
  if (d.math.deficitBytes <= 0) {
    return [
      'nothing',
      `reservation met with ${formatBytes(-d.math.deficitBytes)} to spare`,
    ];
  }
  const short = `reservation ${formatBytes(d.math.deficitBytes)} short`;
  if (d.plan.victims.length === 0 || !d.plan.feasible) {
    return [
      'infeasible',
      `${short}; no eligible process can restore it, nothing would be killed`,
    ];
  }
  const pids = d.plan.victims.map((v) => v.process.pid).join(', ');
  const grace = formatDurationWords(config.hardGraceMs);
  if (mode === 'observe')
    return ['record', `${short}; would record a plan for pid ${pids}`];
  if (mode === 'warn')
    return [
      'warn',
      `${short}; would warn the owners of pid ${pids}, killing nothing`,
    ];
  const signal = mode === 'enforce' ? 'SIGTERM, then SIGKILL,' : 'SIGTERM';
  return [
    'kill',
    `${short}; would send ${signal} to pid ${pids} once harm has held for ${grace}`,
  ];
}

/** The report as text for people. */
export function renderCheck(report: CheckReport): string {
  const lines = [
    `${report.node} at ${report.takenAt} (${report.source})${report.killSwitch ? ', kill switch on: warn only' : ''}`,
  ];
  for (const gpu of report.gpus) {
    lines.push('', ...renderGpu(gpu));
  }
  for (const missing of report.missing) {
    lines.push(
      '',
      `GPU ${missing}: not in this snapshot; its reservation cannot be checked`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function renderGpu(gpu: CheckGpu): string[] {
  const m = gpu.math;
  const lines = [
    `GPU ${gpu.gpuIndex} ${gpu.gpuUuid}: ${gpu.workload}${gpu.model ? ` (${gpu.model})` : ''}, mode ${gpu.mode}`,
  ];
  if (m) {
    lines.push(
      `  reserved ${formatBytes(m.reservedBytes)}  free ${formatBytes(m.freeBytes)}  protected ${formatBytes(m.protectedBytes)}  others ${formatBytes(m.otherBytes)}  unattributed ${formatBytes(m.unattributedBytes)}  margin ${formatBytes(m.marginBytes)}`,
      `  available ${formatBytes(m.availableBytes)}  deficit ${formatBytes(m.deficitBytes)}`,
    );
  }
  lines.push(`  now: ${gpu.summary}`);
  for (const p of gpu.processes) {
    const who = `${p.name ?? '?'} (${p.user ?? '?'})`;
    lines.push(
      `  ${String(p.pid).padStart(7)}  ${who.padEnd(28)} ${formatBytes(p.usedBytes).padStart(10)}  ${p.role}: ${p.reason}`,
    );
  }
  return lines;
}
