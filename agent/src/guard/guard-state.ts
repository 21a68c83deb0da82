/**
 * The per-GPU state machine: OK → soft breach → hard breach → recovering,
 * with the timers of research/enforcement.md §8.4. Pure: time comes in.
 */
import type { GuardConfig } from './guard-config.ts';
import type { GuardState } from './types.ts';

/** What the guard remembers about one GPU between evaluations. */
export interface GpuMemo {
  state: GuardState;
  /** The breach level before recovering, resumed if the breach returns. */
  level: 'soft_breach' | 'hard_breach' | null;
  /** First sample of the current breach, kept through recovering. */
  breachSinceMs: number | null;
  /** Start of the uninterrupted breach window the hard grace counts on. */
  windowSinceMs: number | null;
  windowSamples: number;
  harmSinceMs: number | null;
  recoveringSinceMs: number | null;
  lastCompliantAtMs: number | null;
  firstSeenAtMs: Map<string, number>;
  lastNotifyKey: string | null;
  lastNotifyAtMs: number | null;
  cooldownUntilMs: number;
  kills: { atMs: number; respawnKey: string }[];
  /** When a plan last restored the reservation, until offload is checked. */
  restoredAtMs: number | null;
}

/** A fresh memo: OK, no history. */
export function newMemo(): GpuMemo {
  return {
    state: 'ok',
    level: null,
    breachSinceMs: null,
    windowSinceMs: null,
    windowSamples: 0,
    harmSinceMs: null,
    recoveringSinceMs: null,
    lastCompliantAtMs: null,
    firstSeenAtMs: new Map(),
    lastNotifyKey: null,
    lastNotifyAtMs: null,
    cooldownUntilMs: 0,
    kills: [],
    restoredAtMs: null,
  };
}

/** Advances the memo by one sample; returns the new state. */
export function advanceState(
  memo: GpuMemo,
  sample: { nowMs: number; breached: boolean; harmed: boolean },
  config: GuardConfig,
): GuardState {
  const { nowMs, harmed } = sample;
  memo.harmSinceMs = harmed ? (memo.harmSinceMs ?? nowMs) : null;
  if (sample.breached) {
    advanceBreached(memo, nowMs, harmed, config);
  } else {
    advanceCompliant(memo, nowMs, config);
  }
  return memo.state;
}

function advanceBreached(
  memo: GpuMemo,
  nowMs: number,
  harmed: boolean,
  config: GuardConfig,
): void {
  memo.windowSamples += 1;
  memo.windowSinceMs ??= nowMs;
  memo.breachSinceMs ??= nowMs;
  if (memo.state === 'recovering') {
    // Anti-flap: a breach inside the transition period resumes the level
    // it left, so one good sample does not restart the grace timers.
    memo.state = memo.level ?? 'soft_breach';
    memo.recoveringSinceMs = null;
  }

  const heldMs = (since: number | null) =>
    since === null ? -1 : nowMs - since;
  const isHard =
    harmed &&
    heldMs(memo.harmSinceMs) >= config.hardGraceMs &&
    heldMs(memo.windowSinceMs) >= config.hardGraceMs &&
    memo.windowSamples >= config.hardSamples;
  if ((memo.state === 'hard_breach' && harmed) || isHard) {
    memo.state = 'hard_breach';
  } else if (memo.windowSamples >= 2 || memo.state !== 'ok') {
    memo.state = 'soft_breach';
  }
}

function advanceCompliant(
  memo: GpuMemo,
  nowMs: number,
  config: GuardConfig,
): void {
  memo.lastCompliantAtMs = nowMs;
  memo.windowSamples = 0;
  if (memo.state === 'soft_breach' || memo.state === 'hard_breach') {
    memo.level = memo.state;
    memo.state = 'recovering';
    memo.recoveringSinceMs = nowMs;
    if (memo.level !== 'hard_breach') memo.windowSinceMs = null;
    return;
  }

  const settled =
    memo.state === 'ok' ||
    nowMs - (memo.recoveringSinceMs ?? nowMs) >= config.transitionMs;
  if (settled) {
    memo.state = 'ok';
    memo.level = null;
    memo.breachSinceMs = null;
    memo.windowSinceMs = null;
    memo.recoveringSinceMs = null;
  }
}

/** Respawn keys killed within the respawn window: their breaker is open. */
export function openBreakers(
  memo: GpuMemo,
  nowMs: number,
  config: GuardConfig,
): Set<string> {
  return new Set(
    memo.kills
      .filter((k) => nowMs - k.atMs < config.respawnWindowMs)
      .map((k) => k.respawnKey),
  );
}

/** Kills on this GPU within the last hour. */
export function killsLastHour(memo: GpuMemo, nowMs: number): number {
  return memo.kills.filter((k) => nowMs - k.atMs < 3_600_000).length;
}
