/**
 * What one enforcement pass of the GPU check did, judged and written out
 * for people: time to SIGTERM, whether SIGKILL was needed, time until the
 * VRAM was verified free, free memory before and after, and every signal
 * the guard asked for. Pure.
 */
import type { StepOutcome } from '../../agent/src/guard/enforcer.ts';
import type { GuardEvent } from '../../shared/src/messages.ts';
import type { Snapshot } from '../../shared/src/snapshot.ts';
import { formatBytes } from '../../shared/src/units.ts';

/** A signal the guard asked for; `allowed` is false for any pid but the offender's. */
export interface SignalRequest {
  pid: number;
  signal: string;
  /** Wall time of the request, epoch ms. */
  atMs: number;
  allowed: boolean;
}

/** What the pass recorded. */
export interface EnforcementRun {
  offenderPid: number;
  /** Wall time the first sample was taken, epoch ms. */
  startedAtMs: number;
  hardGraceMs: number;
  intervalMs: number;
  releaseRatio: number;
  events: GuardEvent[];
  requests: SignalRequest[];
  /** A sample taken after the pass. */
  after: Snapshot;
}

/** The figures of the pass and whether the check passed. */
export interface EnforcementVerdict {
  passed: boolean;
  /** One line: why it failed; `null` when it passed. */
  reason: string | null;
  /** From the first sample to SIGTERM, ms. */
  toSigtermMs: number | null;
  sigkillNeeded: boolean;
  /** From SIGTERM to the offender's exit, ms. */
  exitedAfterMs: number | null;
  /** From SIGTERM to the VRAM verified free, ms. */
  releasedAfterMs: number | null;
  offenderUsedBytes: number | null;
  /** Free memory of the GPU when the plan was made. */
  freeBeforeBytes: number | null;
  /** Free memory of the GPU in the sample after the pass. */
  freeAfterBytes: number | null;
  /** Free memory gained after the exit, as the enforcer measured it. */
  freedBytes: number | null;
  offenderListedAfter: boolean;
  otherPidsSignalled: number[];
}

/** Judges the pass: the offender, and nothing else, killed and its VRAM back. */
export function judgeEnforcement(run: EnforcementRun): EnforcementVerdict {
  const mine = run.events.filter((e) => e.process?.pid === run.offenderPid);
  const term = mine.find((e) => e.kind === 'signal');
  const freed = mine.find((e) => e.kind === 'freed');
  const outcome = outcomeOf(freed ?? mine.find((e) => e.kind === 'abort'));
  const gpu = run.after.gpus.find((g) => g.uuid === term?.gpuUuid);
  const figures = {
    toSigtermMs: term ? term.atMs - run.startedAtMs : null,
    sigkillNeeded: mine.some((e) => e.kind === 'kill'),
    exitedAfterMs: outcome?.exitedAfterMs ?? null,
    releasedAfterMs: outcome?.releasedAfterMs ?? null,
    offenderUsedBytes: term?.process?.usedBytes ?? null,
    freeBeforeBytes: term?.freeBytes ?? null,
    freeAfterBytes: gpu?.memory.freeBytes ?? null,
    freedBytes: outcome?.freedBytes ?? null,
    offenderListedAfter: run.after.gpus.some((g) =>
      g.processes.some((p) => p.pid === run.offenderPid),
    ),
    otherPidsSignalled: [
      ...new Set(
        run.requests.filter((r) => r.pid !== run.offenderPid).map((r) => r.pid),
      ),
    ],
  };
  const reason = failureOf(run, figures, term, freed, outcome);
  return { passed: reason === null, reason, ...figures };
}

function outcomeOf(event: GuardEvent | undefined): StepOutcome | null {
  const outcome = event?.details.outcome;
  return outcome && typeof outcome === 'object'
    ? (outcome as StepOutcome)
    : null;
}

function failureOf(
  run: EnforcementRun,
  f: Omit<EnforcementVerdict, 'passed' | 'reason'>,
  term: GuardEvent | undefined,
  freed: GuardEvent | undefined,
  outcome: StepOutcome | null,
): string | null {
  if (f.otherPidsSignalled.length > 0) {
    return `the guard asked to signal pid(s) ${f.otherPidsSignalled.join(', ')}, not only the offender ${run.offenderPid}`;
  }
  if (!term) {
    const last = run.events.at(-1);
    return `the guard sent no SIGTERM to the offender ${run.offenderPid}${last ? `; last guard event: ${last.kind}: ${last.message}` : '; it never saw a breach'}`;
  }
  if (!freed) {
    return `the offender ${run.offenderPid} was signalled but not verified gone: ${outcome ? `${outcome.result}${outcome.reason ? ` (${outcome.reason})` : ''}` : 'no outcome'}`;
  }
  if (f.offenderListedAfter) {
    return `the offender ${run.offenderPid} is still listed on a GPU after the kill`;
  }
  const wantBytes = (f.offenderUsedBytes ?? 0) * run.releaseRatio;
  if ((f.freedBytes ?? -1) < wantBytes) {
    return `only ${formatBytes(f.freedBytes)} came back of the offender's ${formatBytes(f.offenderUsedBytes)}`;
  }
  return null;
}

/** The pass's figures as lines for people. */
export function renderEnforcement(
  run: EnforcementRun,
  v: EnforcementVerdict,
): string {
  const requests = run.requests.map(
    (r) =>
      `pid ${r.pid} ${r.signal} at ${seconds(r.atMs - run.startedAtMs)}${r.allowed ? '' : ' (REFUSED)'}`,
  );
  const lines = [
    `time to SIGTERM:          ${seconds(v.toSigtermMs)} after the first sample (grace.hard ${seconds(run.hardGraceMs)}, sampling every ${seconds(run.intervalMs)})`,
    `SIGKILL needed:           ${v.sigkillNeeded ? 'yes' : 'no'}`,
    `offender exited:          ${seconds(v.exitedAfterMs)} after SIGTERM`,
    `VRAM verified free:       ${seconds(v.releasedAfterMs)} after SIGTERM`,
    `offender held:            ${bytes(v.offenderUsedBytes)}`,
    `free before (at plan):    ${bytes(v.freeBeforeBytes)}`,
    `free after:               ${bytes(v.freeAfterBytes)}`,
    `freed (enforcer):         ${bytes(v.freedBytes)}`,
    `offender still listed:    ${v.offenderListedAfter ? 'yes' : 'no'}`,
    `signals asked for:        ${requests.join('; ') || 'none'}`,
    `guard events:             ${run.events.map((e) => e.kind).join(', ') || 'none'}`,
  ];
  return `${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

function seconds(ms: number | null): string {
  return ms === null ? 'n/a' : `${(ms / 1000).toFixed(3)} s`;
}

function bytes(value: number | null): string {
  return value === null ? 'n/a' : `${formatBytes(value)} (${value} bytes)`;
}
