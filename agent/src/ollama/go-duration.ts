/**
 * Go's `time.Duration.String()` text (what Gin prints as a request's
 * latency) read back as milliseconds: `0s`, `850ns`, `41.512µs`,
 * `3.141592ms`, `2.305118442s`, `13m1s`, `2h3m4s`, `1m2.5s`.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

// Longer units first, so `ms` is never read as `m` followed by `s`.
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)/gy;

/**
 * Parses a Go duration string into milliseconds (fractional below 1 ms).
 * Accepts the micro sign U+00B5 and the Greek mu U+03BC, as Go does.
 * Returns `null` for anything else (negative, empty, unknown unit).
 */
export function parseGoDurationMs(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  PART.lastIndex = 0;
  let totalMs = 0;
  let consumed = 0;
  for (;;) {
    const match = PART.exec(trimmed);
    if (!match) break;
    totalMs += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    consumed = PART.lastIndex;
  }
  if (consumed === 0 || consumed !== trimmed.length) return null;
  return Number.isFinite(totalMs) ? totalMs : null;
}
