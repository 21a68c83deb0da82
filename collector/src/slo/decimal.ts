/**
 * Exact decimals for SLO arithmetic. Targets and burn multiples are read
 * from their decimal text into scaled integers (99.5 % → 995 000 parts per
 * million; 14.4 → 14 400 000 micro-multiples), so no verdict ever depends
 * on how `1 − 0.995` rounds in binary floating point.
 */

/** Scale of targets and budgets: parts per million. */
export const PPM = 1_000_000;

/** Scale of burn-rate multiples: millionths. */
export const MICROS = 1_000_000;

/**
 * Reads a decimal (`99.5`, `"14.4"`, `3`) as an integer scaled by
 * 10^`digits`. Returns `null` when the value is not a plain decimal or has
 * more fractional digits than `digits` (it could not be held exactly).
 */
export function parseScaledDecimal(
  value: unknown,
  digits: number,
): number | null {
  const text =
    typeof value === 'number' && Number.isFinite(value)
      ? String(value)
      : typeof value === 'string'
        ? value.trim()
        : null;
  const match = text === null ? null : /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return null;

  const whole = match[1] ?? '0';
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > digits) return null;

  const scaled = Number(whole + fraction.padEnd(digits, '0'));
  return Number.isSafeInteger(scaled) ? scaled : null;
}

/** The plain number a scaled integer stands for, for display only. */
export function unscale(scaled: number, digits: number): number {
  return scaled / 10 ** digits;
}
