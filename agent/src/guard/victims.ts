/**
 * The minimal victim set (research/enforcement.md §8.6, without tiers): the
 * fewest candidates whose VRAM covers the goal, newcomers since the last
 * healthy moment first, the least collateral among equals. Pure.
 */
import type { Candidate, VictimPlan } from './types.ts';

/** Options of {@link chooseVictims}. */
export interface ChooseOptions {
  /** D: positive when breached. */
  deficitBytes: number;
  /** D plus the minimum reclaim. */
  needBytes: number;
  /** Kill toward D even when the candidates cannot cover it. */
  allowPartialRelief: boolean;
}

/**
 * Chooses victims. The goal is `need` when the candidates can free it,
 * else `D`; when they cannot cover `D` the plan is empty and infeasible
 * (unless partial relief is allowed). Never more victims than the fewest
 * that reach the goal.
 */
export function chooseVictims(
  candidates: readonly Candidate[],
  options: ChooseOptions,
): VictimPlan {
  const { deficitBytes, needBytes } = options;
  if (deficitBytes <= 0) {
    return { victims: [], goalBytes: 0, feasible: true };
  }

  const totalBytes = sumBytes(candidates);
  if (totalBytes < deficitBytes) {
    const victims = options.allowPartialRelief ? [...candidates] : [];
    return { victims, goalBytes: deficitBytes, feasible: false };
  }

  const goalBytes = totalBytes >= needBytes ? needBytes : deficitBytes;
  const fewest = countFewest(candidates, goalBytes);
  const culprits = candidates.filter((c) => c.culprit);
  const fromCulprits = pick(culprits, goalBytes);
  const victims =
    fromCulprits !== null && fromCulprits.length <= fewest
      ? fromCulprits
      : (pick(candidates, goalBytes) ?? []);
  return { victims, goalBytes, feasible: true };
}

/** The fewest candidates whose VRAM reaches `goalBytes` (largest first). */
export function countFewest(
  candidates: readonly Candidate[],
  goalBytes: number,
): number {
  const sizes = candidates.map((c) => c.usedBytes).sort((a, b) => b - a);
  let sum = 0;
  for (let i = 0; i < sizes.length; i += 1) {
    sum += sizes[i] ?? 0;
    if (sum >= goalBytes) return i + 1;
  }
  return Number.POSITIVE_INFINITY;
}

function pick(
  pool: readonly Candidate[],
  goalBytes: number,
): Candidate[] | null {
  if (pool.length === 0 || sumBytes(pool) < goalBytes) return null;

  const singles = pool.filter((c) => c.usedBytes >= goalBytes);
  if (singles.length > 0) {
    const best = [...singles].sort(
      (a, b) => a.usedBytes - b.usedBytes || newerFirst(a, b),
    )[0];
    return best ? [best] : null;
  }

  const ordered = [...pool].sort(
    (a, b) =>
      b.usedBytes - a.usedBytes ||
      Number(b.culprit) - Number(a.culprit) ||
      newerFirst(a, b),
  );
  const picked: Candidate[] = [];
  for (const c of ordered) {
    picked.push(c);
    if (sumBytes(picked) >= goalBytes) return picked;
  }
  return null;
}

function newerFirst(a: Candidate, b: Candidate): number {
  return b.startTimeTicks - a.startTimeTicks || a.process.pid - b.process.pid;
}

function sumBytes(list: readonly Candidate[]): number {
  return list.reduce((sum, c) => sum + c.usedBytes, 0);
}
