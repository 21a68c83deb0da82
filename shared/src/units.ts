/**
 * Parsing and formatting of sizes and durations. Sizes are bytes, durations
 * milliseconds. Binary (`GiB`) and decimal (`GB`) suffixes both parse, each
 * with its own meaning; formatting for people uses binary units.
 */

const SIZE_FACTORS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
};

const DURATION_FACTORS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Bytes in one MiB, the unit nvidia-smi reports memory in. */
export const MIB_BYTES = 2 ** 20;

/**
 * Parses a size such as `20GiB`, `512 MiB`, `3GB` or a plain byte count.
 * Returns `null` when the text is not a size.
 */
export function parseBytes(text: string | number): number | null {
  if (typeof text === 'number') {
    return Number.isFinite(text) && text >= 0 ? Math.round(text) : null;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!match) return null;
  const factor = SIZE_FACTORS[(match[2] ?? '').toLowerCase() || 'b'];
  if (factor === undefined) return null;
  return Math.round(Number(match[1]) * factor);
}

/**
 * Parses a duration such as `10s`, `5m`, `1h30m`, `250ms` or `1.5s`.
 * A bare number is milliseconds. Returns `null` when it is not a duration.
 */
export function parseDuration(text: string | number): number | null {
  if (typeof text === 'number') {
    return Number.isFinite(text) && text >= 0 ? text : null;
  }
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;
  let totalMs = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(part)) {
    if (match.index !== consumed) return null;
    totalMs += Number(match[1]) * (DURATION_FACTORS_MS[match[2] ?? ''] ?? 0);
    consumed += match[0].length;
  }
  return consumed === trimmed.length && consumed > 0 ? totalMs : null;
}

/** Formats bytes for people: `3.0 GiB`, `512 MiB`, `0 B`; `n/a` for null. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return 'n/a';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/**
 * Formats a duration as a person writes it: `13 minutes`, `1 hour 5
 * minutes`, `45 seconds`, `2 days`.
 */
export function formatDurationWords(durationMs: number): string {
  const seconds = Math.round(durationMs / 1000);
  if (seconds < 60) return plural(seconds, 'second');
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  const restMinutes = minutes % 60;
  if (hours < 48) {
    const head = plural(hours, 'hour');
    return restMinutes ? `${head} ${plural(restMinutes, 'minute')}` : head;
  }
  return plural(Math.round(hours / 24), 'day');
}

/** Formats a duration compactly for tables and logs: `1h5m`, `30s`, `250ms`. */
export function formatDurationShort(durationMs: number): string {
  if (durationMs < 1000) return `${Math.round(durationMs)}ms`;
  let seconds = Math.round(durationMs / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds >= size) {
      parts.push(`${Math.floor(seconds / size)}${unit}`);
      seconds %= size;
    }
  }
  if (seconds || parts.length === 0) parts.push(`${seconds}s`);
  return parts.join('');
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
