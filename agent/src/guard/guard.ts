/**
 * The guard's planner: from a snapshot and harm signals, per reserved GPU,
 * the reservation arithmetic, the state, the candidates with the reason for
 * every exclusion, the minimal victim set and a verdict. Pure: it keeps
 * per-GPU memory between calls but does no I/O and reads no clock.
 */
import type { GpuSnapshot, Snapshot } from '../../../shared/src/snapshot.ts';
import type { HarmSignals } from './harm.ts';
import { harmLabels } from './harm-policy.ts';
import type { GuardConfig, Reservation } from './guard-config.ts';
import { reservationGpuKey } from './guard-config.ts';
import {
  advanceState,
  killsLastHour,
  newMemo,
  openBreakers,
} from './guard-state.ts';
import type { GpuMemo } from './guard-state.ts';
import {
  computeReservation,
  findReservedGpu,
  identityKey,
  protectedPidsOf,
  splitCandidates,
} from './reservation.ts';
import type {
  AncestorInfo,
  Candidate,
  GpuDecision,
  Verdict,
  WorkloadState,
} from './types.ts';
import { chooseVictims } from './victims.ts';

/** One evaluation's inputs. */
export interface GuardInput {
  snapshot: Snapshot;
  harm: HarmSignals;
  /** What the workload monitor knows of the reserved model, if anything. */
  workload?: WorkloadState | null;
  /** Now, ms since the epoch (the injected clock's wall time). */
  nowMs: number;
  /** Ancestors per pid, nearest first, for protection by ancestry. */
  ancestry?: ReadonlyMap<number, AncestorInfo[]>;
}

/** Options of {@link Guard}. */
export interface GuardOptions {
  /** gpuwarden's own pid and its parent's: never chosen. */
  self: { pid: number; ppid: number };
}

/** The planner and state machine for every reserved GPU of a host. */
export class Guard {
  private readonly memos = new Map<string, GpuMemo>();

  constructor(
    private readonly config: GuardConfig,
    private readonly options: GuardOptions,
  ) {}

  /** Advances every reserved GPU by one sample and decides. */
  evaluate(input: GuardInput): GpuDecision[] {
    return this.config.reservations.map((r) => this.evaluateOne(input, r));
  }

  /**
   * Plans one GPU again from a fresh snapshot without moving its state or
   * timers: what the enforcer asks between two victims.
   */
  replan(input: GuardInput, gpuUuid: string): GpuDecision | null {
    const reservation = this.config.reservations.find((r) => {
      const gpu = findReservedGpu(input.snapshot.gpus, r);
      return gpu?.uuid === gpuUuid;
    });
    if (!reservation) return null;
    const gpu = findReservedGpu(input.snapshot.gpus, reservation);
    const memo = this.memoFor(gpuUuid);
    return gpu ? this.decide(input, reservation, gpu, memo, false) : null;
  }

  /** Records a victim that was signalled and gone: rate limits, breaker. */
  noteKill(gpuUuid: string, victim: Candidate, atMs: number): void {
    const memo = this.memoFor(gpuUuid);
    const keepMs = Math.max(3_600_000, this.config.respawnWindowMs);
    memo.kills = memo.kills.filter((k) => atMs - k.atMs < keepMs);
    memo.kills.push({ atMs, respawnKey: victim.respawnKey });
  }

  /** Records the end of a plan: cooldown, and the offload check on restore. */
  notePlanDone(gpuUuid: string, atMs: number, restored: boolean): void {
    const memo = this.memoFor(gpuUuid);
    memo.cooldownUntilMs = atMs + this.config.cooldownMs;
    if (restored) memo.restoredAtMs = atMs;
  }

  private evaluateOne(input: GuardInput, reservation: Reservation) {
    const gpu = findReservedGpu(input.snapshot.gpus, reservation);
    if (!gpu) {
      return this.heldDecision(input, reservation, 'gpu_not_found');
    }
    const takenAtMs = Date.parse(input.snapshot.takenAt);
    const isStale =
      !Number.isFinite(takenAtMs) ||
      input.nowMs - takenAtMs > this.config.staleAfterMs;
    if (isStale) return this.heldDecision(input, reservation, 'stale_data');
    return this.decide(input, reservation, gpu, this.memoFor(gpu.uuid), true);
  }

  private decide(
    input: GuardInput,
    reservation: Reservation,
    gpu: GpuSnapshot,
    memo: GpuMemo,
    advance: boolean,
  ): GpuDecision {
    const ancestry = input.ancestry ?? new Map<number, AncestorInfo[]>();
    const base = { config: this.config, ancestry };
    const protectedPids = protectedPidsOf(input.snapshot.gpus, base);
    const ctx = { ...base, protectedPids, self: this.options.self };
    const workload = input.workload ?? null;
    const math = computeReservation(
      gpu,
      reservation,
      this.config,
      protectedPids,
      workload,
    );
    const labels = harmLabels(input.harm, this.config.harm);
    const harmEvidence = [...labels, ...input.harm.evidence];
    const previousState = memo.state;
    if (advance) this.remember(memo, gpu, input.nowMs);
    if (advance && math) {
      advanceState(
        memo,
        {
          nowMs: input.nowMs,
          breached: math.deficitBytes > 0,
          harmed: labels.length > 0,
        },
        this.config,
      );
    }

    const { candidates, excluded } = splitCandidates(gpu, {
      ctx,
      lastCompliantAtMs: memo.lastCompliantAtMs,
      firstSeenAtMs: memo.firstSeenAtMs,
      openBreakers: openBreakers(memo, input.nowMs, this.config),
    });
    const plan = chooseVictims(candidates, {
      deficitBytes: math?.deficitBytes ?? 0,
      needBytes: math?.needBytes ?? 0,
      allowPartialRelief: this.config.allowPartialRelief,
    });
    const decision: GpuDecision = {
      atMs: input.nowMs,
      gpuUuid: gpu.uuid,
      gpuIndex: gpu.index,
      reservation,
      math,
      state: memo.state,
      previousState,
      harmed: labels.length > 0,
      harmEvidence,
      breachSinceMs: memo.breachSinceMs,
      candidates,
      excluded,
      plan,
      verdict: 'none',
      holdReason: math ? null : 'memory_unknown',
      notify: false,
      offloadPersists: false,
    };
    if (math) this.judge(decision, memo, input);
    return decision;
  }

  private judge(decision: GpuDecision, memo: GpuMemo, input: GuardInput) {
    const [verdict, holdReason] = this.verdictOf(decision, memo, input.nowMs);
    decision.verdict = verdict;
    decision.holdReason = holdReason;
    decision.notify = this.shouldNotify(decision, memo, input.nowMs);
    decision.offloadPersists = this.checkOffload(decision, memo, input);
  }

  private verdictOf(
    d: GpuDecision,
    memo: GpuMemo,
    nowMs: number,
  ): [Verdict, string | null] {
    if ((d.math?.deficitBytes ?? 0) <= 0) return ['none', null];
    const blocked = d.plan.victims.length === 0 || !d.plan.feasible;
    const blockedVerdict: Verdict = d.excluded.some(
      (e) => e.reason === 'breaker_open',
    )
      ? 'breaker'
      : 'infeasible';
    if (d.state === 'hard_breach') {
      if (blocked) return [blockedVerdict, null];
      if (nowMs < memo.cooldownUntilMs) return ['hold', 'cooldown'];
      if (killsLastHour(memo, nowMs) >= this.config.killsPerGpuPerHour) {
        return ['warn', 'rate_limited'];
      }
      return ['kill', null];
    }
    const heldMs = nowMs - (memo.breachSinceMs ?? nowMs);
    if (d.state === 'soft_breach' && heldMs >= this.config.softGraceMs) {
      return [blocked ? blockedVerdict : 'warn', null];
    }
    return ['hold', d.harmed ? 'hard_grace' : 'soft_grace'];
  }

  private shouldNotify(d: GpuDecision, memo: GpuMemo, nowMs: number) {
    if (d.verdict === 'none' || d.verdict === 'hold') return false;
    const key = [
      d.verdict,
      ...d.plan.victims.map((v) => identityKey(v.process)),
    ].join(' ');
    const isRepeat =
      key === memo.lastNotifyKey &&
      memo.lastNotifyAtMs !== null &&
      nowMs - memo.lastNotifyAtMs < this.config.warnEveryMs;
    if (isRepeat) return false;
    memo.lastNotifyKey = key;
    memo.lastNotifyAtMs = nowMs;
    return true;
  }

  private checkOffload(d: GpuDecision, memo: GpuMemo, input: GuardInput) {
    const restoredAtMs = memo.restoredAtMs;
    if (restoredAtMs === null || (d.math?.deficitBytes ?? 1) > 0) return false;
    if (input.nowMs < restoredAtMs + this.config.cooldownMs) return false;
    memo.restoredAtMs = null;
    return input.harm.modelPartlyOnCpu === true;
  }

  private remember(memo: GpuMemo, gpu: GpuSnapshot, nowMs: number): void {
    const present = new Set(gpu.processes.map(identityKey));
    for (const key of memo.firstSeenAtMs.keys()) {
      if (!present.has(key)) memo.firstSeenAtMs.delete(key);
    }
    for (const key of present) {
      if (!memo.firstSeenAtMs.has(key)) memo.firstSeenAtMs.set(key, nowMs);
    }
  }

  private heldDecision(
    input: GuardInput,
    reservation: Reservation,
    holdReason: string,
  ): GpuDecision {
    const gpu = findReservedGpu(input.snapshot.gpus, reservation);
    const gpuUuid = gpu?.uuid ?? reservationGpuKey(reservation);
    const memo = this.memoFor(gpuUuid);
    return {
      atMs: input.nowMs,
      gpuUuid,
      gpuIndex: gpu?.index ?? reservation.gpuIndex ?? -1,
      reservation,
      math: null,
      state: memo.state,
      previousState: memo.state,
      harmed: false,
      harmEvidence: [],
      breachSinceMs: memo.breachSinceMs,
      candidates: [],
      excluded: [],
      plan: { victims: [], goalBytes: 0, feasible: true },
      verdict: 'hold',
      holdReason,
      notify: false,
      offloadPersists: false,
    };
  }

  private memoFor(gpuUuid: string): GpuMemo {
    let memo = this.memos.get(gpuUuid);
    if (!memo) {
      memo = newMemo();
      this.memos.set(gpuUuid, memo);
    }
    return memo;
  }
}
