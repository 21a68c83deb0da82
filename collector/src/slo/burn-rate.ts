/**
 * Burn-rate arithmetic (Google SRE Workbook ch. 5; research/slo.md §0):
 * error ratio e = bad / total over a window, budget B = 1 − target,
 * burn = e / B. Verdicts compare cross-multiplied integers (BigInt), so
 * `burn ≥ k` is exact; the floating burn value is for display only.
 */
import { MICROS, PPM } from './decimal.ts';

const PPM_BIG = BigInt(PPM);
const MICROS_BIG = BigInt(MICROS);

/**
 * Burn rate of a window for display: `null` when it holds no events (0/0 is
 * neither good nor bad), never NaN or Infinity.
 */
export function burnRate(
  good: number,
  total: number,
  budgetPpm: number,
): number | null {
  if (total <= 0) return null;
  return ((total - good) * PPM) / (total * budgetPpm);
}

/**
 * True when the window's burn is at least `thresholdMicros` / 10^6, by
 * exact integer comparison: bad · 10^6 · 10^6 ≥ k · budgetPpm · total.
 * False for an empty window.
 */
export function burnAtLeast(
  good: number,
  total: number,
  budgetPpm: number,
  thresholdMicros: number,
): boolean {
  if (total <= 0) return false;
  const bad = BigInt(total - good);
  return (
    bad * PPM_BIG * MICROS_BIG >=
    BigInt(thresholdMicros) * BigInt(budgetPpm) * BigInt(total)
  );
}

/**
 * Share of the period's error budget left: 1 − burn over the period. 1 is
 * untouched, 0 spent, below 0 overspent; `null` when the period is empty.
 */
export function budgetRemainingRatio(
  good: number,
  total: number,
  budgetPpm: number,
): number | null {
  const burn = burnRate(good, total, budgetPpm);
  return burn === null ? null : 1 - burn;
}
