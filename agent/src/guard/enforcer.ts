/**
 * The enforcer: acts on one victim at a time (research/enforcement.md
 * §8.7). Right before each signal it samples again and re-reads the
 * victim's identity (pid + start time + boot id), aborting on any
 * mismatch; SIGTERM, wait, SIGKILL (unless `enforce-term`); then it
 * verifies that the VRAM came back on the GPU.
 */
import type { Clock } from '../../../shared/src/clock.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { Snapshot } from '../../../shared/src/snapshot.ts';
import type { KillSignal, Signaller } from './signaller.ts';
import type { Candidate, ProcessIdentity } from './types.ts';

/** Collaborators of {@link Enforcer}. */
export interface EnforcerDeps {
  /** A fresh snapshot (NVML/nvidia-smi plus `/proc`). */
  sample(): Promise<Snapshot>;
  /** The pid's identity now; `null` when it is gone. */
  readIdentity(pid: number): Promise<ProcessIdentity | null>;
  signal: Signaller;
  clock: Clock;
  logger: Logger;
}

/** Options of {@link Enforcer}; durations in ms. */
export interface EnforcerOptions {
  /** False in `enforce-term`: SIGTERM only, never SIGKILL. */
  allowKill: boolean;
  termGraceMs: number;
  killGraceMs: number;
  releaseTimeoutMs: number;
  pollIntervalMs: number;
  /** Share of the victim's VRAM that must reappear as free (0..1). */
  releaseRatio: number;
}

/** One step: a victim on a GPU, with the boot id the plan was made in. */
export interface EnforceStep {
  gpuUuid: string;
  victim: Candidate;
  expectedBootId: string | null;
}

/** How a step ended. */
export type StepResult =
  | 'freed'
  | 'aborted'
  | 'signal_failed'
  | 'term_ignored'
  | 'unkillable'
  | 'vram_not_released';

/** What happened in one step. */
export interface StepOutcome {
  result: StepResult;
  /** For `aborted`: `identity_mismatch`, `gone`, `not_on_gpu`, `gpu_missing`. */
  reason: string | null;
  signals: { signal: KillSignal; atMs: number }[];
  exitedAfterMs: number | null;
  /** Free memory gained on the GPU after the exit; `null` if unmeasured. */
  freedBytes: number | null;
  /** Free memory on the GPU at the last check after the exit; or null. */
  freeAfterBytes: number | null;
  releasedAfterMs: number | null;
}

/** Sends signals to one victim at a time and verifies the result. */
export class Enforcer {
  private readonly log: Logger;

  constructor(
    private readonly options: EnforcerOptions,
    private readonly deps: EnforcerDeps,
  ) {
    this.log = deps.logger.child({ component: 'enforcer' });
  }

  /** Runs one step; `onSignal` hears each signal as it is sent. */
  async execute(
    step: EnforceStep,
    onSignal: (signal: KillSignal, atMs: number) => void = () => {},
  ): Promise<StepOutcome> {
    const outcome = emptyOutcome();
    const before = await this.recheck(step);
    if (typeof before === 'string') return aborted(outcome, before);

    const startedMs = this.deps.clock.monotonicMs();
    const term = this.send(step, 'SIGTERM', outcome, onSignal);
    if (term) return term;
    let exited = await this.waitExit(step, this.options.termGraceMs);
    if (!exited && !this.options.allowKill) {
      return { ...outcome, result: 'term_ignored' };
    }
    if (!exited) {
      const again = await this.recheck(step);
      // Alive but off the GPU: its memory is back, a SIGKILL adds nothing.
      if (again === 'not_on_gpu') {
        return this.verifyRelease(step, before, outcome, startedMs);
      }
      if (typeof again !== 'string') {
        const kill = this.send(step, 'SIGKILL', outcome, onSignal);
        if (kill) return kill;
      }
      exited = await this.waitExit(step, this.options.killGraceMs);
      if (!exited) return { ...outcome, result: 'unkillable' };
    }

    outcome.exitedAfterMs = this.deps.clock.monotonicMs() - startedMs;
    return this.verifyRelease(step, before, outcome, startedMs);
  }

  /**
   * Samples again and re-reads the identity; the free bytes before the
   * signal, or why the step must not go on.
   */
  private async recheck(step: EnforceStep): Promise<number | string> {
    const { victim } = step;
    const snapshot = await this.deps.sample();
    const gpu = snapshot.gpus.find((g) => g.uuid === step.gpuUuid);
    if (!gpu || gpu.memory.freeBytes === null) return 'gpu_missing';
    const listed = gpu.processes.find((p) => p.pid === victim.process.pid);
    if (!listed || (listed.usedBytes ?? 0) <= 0) return 'not_on_gpu';

    const identity = await this.deps.readIdentity(victim.process.pid);
    if (!identity) return 'gone';
    const sameBoot =
      step.expectedBootId === null ||
      identity.bootId === null ||
      identity.bootId === step.expectedBootId;
    const isSame =
      identity.startTimeTicks === victim.startTimeTicks &&
      (listed.startTimeTicks == null ||
        listed.startTimeTicks === victim.startTimeTicks) &&
      sameBoot;
    if (!isSame) {
      this.log.warn(
        { pid: victim.process.pid, planned: victim.startTimeTicks, identity },
        'victim identity changed, not signalling',
      );
      return 'identity_mismatch';
    }
    return gpu.memory.freeBytes;
  }

  private send(
    step: EnforceStep,
    signal: KillSignal,
    outcome: StepOutcome,
    onSignal: (signal: KillSignal, atMs: number) => void,
  ): StepOutcome | null {
    const pid = step.victim.process.pid;
    const sent = this.deps.signal(pid, signal);
    if (!sent.ok) {
      this.log.error({ pid, signal, err: sent.error }, 'signal failed');
      return { ...outcome, result: 'signal_failed', reason: sent.error };
    }
    const atMs = this.deps.clock.nowMs();
    outcome.signals.push({ signal, atMs });
    this.log.warn({ pid, signal, gpuUuid: step.gpuUuid }, 'signal sent');
    onSignal(signal, atMs);
    return null;
  }

  /** Polls until the victim is gone (or another process has its pid). */
  private async waitExit(step: EnforceStep, graceMs: number) {
    const { pid } = step.victim.process;
    const deadlineMs = this.deps.clock.monotonicMs() + graceMs;
    for (;;) {
      const identity = await this.deps.readIdentity(pid);
      if (!identity || identity.startTimeTicks !== step.victim.startTimeTicks) {
        return true;
      }
      if (this.deps.clock.monotonicMs() >= deadlineMs) return false;
      await this.deps.clock.sleep(this.options.pollIntervalMs);
    }
  }

  private async verifyRelease(
    step: EnforceStep,
    freeBeforeBytes: number,
    outcome: StepOutcome,
    startedMs: number,
  ): Promise<StepOutcome> {
    const wantBytes = step.victim.usedBytes * this.options.releaseRatio;
    const deadlineMs =
      this.deps.clock.monotonicMs() + this.options.releaseTimeoutMs;
    for (;;) {
      const snapshot = await this.deps.sample();
      const gpu = snapshot.gpus.find((g) => g.uuid === step.gpuUuid);
      const freeBytes = gpu?.memory.freeBytes ?? null;
      const stillListed = gpu?.processes.some(
        (p) => p.pid === step.victim.process.pid,
      );
      if (freeBytes !== null) {
        outcome.freedBytes = freeBytes - freeBeforeBytes;
        outcome.freeAfterBytes = freeBytes;
      }
      if (!stillListed && (outcome.freedBytes ?? -1) >= wantBytes) {
        outcome.releasedAfterMs = this.deps.clock.monotonicMs() - startedMs;
        return { ...outcome, result: 'freed' };
      }
      if (this.deps.clock.monotonicMs() >= deadlineMs) {
        return { ...outcome, result: 'vram_not_released' };
      }
      await this.deps.clock.sleep(this.options.pollIntervalMs);
    }
  }
}

function emptyOutcome(): StepOutcome {
  return {
    result: 'aborted',
    reason: null,
    signals: [],
    exitedAfterMs: null,
    freedBytes: null,
    freeAfterBytes: null,
    releasedAfterMs: null,
  };
}

function aborted(outcome: StepOutcome, reason: string): StepOutcome {
  return { ...outcome, result: 'aborted', reason };
}
