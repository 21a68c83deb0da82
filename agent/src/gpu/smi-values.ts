/**
 * Value parsing shared by the nvidia-smi CSV and XML readers: lenient
 * decoding of the raw bytes, the many spellings of "no value" (`[N/A]`,
 * `N/A`, `[Not Supported]`, `[Insufficient Permissions]`, …) and numbers
 * with units (`2296 MiB`, `66.84 W`, `40 %`, `37 C`) turned into bytes,
 * watts, percent and °C. Pure: no I/O.
 */
import { MIB_BYTES } from '../../../shared/src/units.ts';

/** Why a cell holds no number. */
export type SmiStatus =
  | 'not_supported'
  | 'not_available'
  | 'no_permission'
  | 'unknown_error'
  | 'deprecated'
  | 'gpu_lost'
  | 'empty'
  | 'unrecognized'
  | 'malformed';

/** A parsed cell: a number in the target unit, or why there is none. */
export type SmiCell =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly status: SmiStatus; readonly raw: string };

/**
 * Decodes nvidia-smi output bytes: invalid UTF-8 becomes U+FFFD (never a
 * throw), a byte-order mark is dropped and CRLF/CR line ends become LF.
 */
export function decodeSmiBytes(bytes: Uint8Array): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
}

const STATUS_TEXTS: ReadonlyArray<readonly [RegExp, SmiStatus]> = [
  [/^(n\/?a|na|-|none)$/i, 'not_available'],
  [/not supported/i, 'not_supported'],
  [/insufficient permissions?|no permission/i, 'no_permission'],
  [/deprecated/i, 'deprecated'],
  [/gpu is lost|fallen off the bus/i, 'gpu_lost'],
  [/unknown error|^err!?$/i, 'unknown_error'],
  [/not available/i, 'not_available'],
];

/**
 * Reads a "no value" token: `''`, `N/A`, `-`, `ERR!` or any `[...]` text.
 * Returns `null` when the text is not such a token (it may be a value).
 * A bracketed text of unknown meaning is `unrecognized`, never a number.
 */
export function readStatus(text: string): SmiStatus | null {
  const trimmed = text.trim();
  if (trimmed === '') return 'empty';
  const bracketed = /^\[(.*)\]$/.exec(trimmed);
  const inner = (bracketed?.[1] ?? trimmed).trim();
  for (const [pattern, status] of STATUS_TEXTS) {
    if (pattern.test(inner)) return status;
  }
  return bracketed ? 'unrecognized' : null;
}

/** Unit name (lower case) → factor to the target unit. */
export type UnitFactors = Readonly<Record<string, number>>;

const NUMBER_WITH_UNIT = /^([+-]?\d+(?:\.\d+)?)\s*([a-z%/!]*)$/i;

/**
 * Parses `number [unit]` into the target unit. The unit must be one of
 * `units`; a bare number takes `defaultUnit` (e.g. from a `[MiB]` header);
 * a comma inside the number is refused rather than guessed (locale).
 */
export function parseQuantity(
  text: string,
  units: UnitFactors,
  defaultUnit: string,
): SmiCell {
  const raw = text.trim();
  const status = readStatus(raw);
  if (status) return { ok: false, status, raw };
  const match = NUMBER_WITH_UNIT.exec(raw);
  const unit = (match?.[2] || defaultUnit).toLowerCase();
  const factor = units[unit];
  if (!match || factor === undefined) {
    return { ok: false, status: 'malformed', raw };
  }
  return { ok: true, value: Number(match[1]) * factor };
}

const MEMORY_UNITS: UnitFactors = {
  b: 1,
  kib: 2 ** 10,
  mib: MIB_BYTES,
  gib: 2 ** 30,
};

/** Memory cell (`2296 MiB`, `2296`) → whole bytes; bare numbers are MiB. */
export function parseMemoryBytes(text: string, headerUnit = 'MiB'): SmiCell {
  const cell = parseQuantity(text, MEMORY_UNITS, headerUnit);
  return cell.ok ? { ok: true, value: Math.round(cell.value) } : cell;
}

/** Percent cell (`40 %`, `40`). */
export function parsePercent(text: string): SmiCell {
  return parseQuantity(text, { '%': 1 }, '%');
}

/** Power cell (`66.84 W`, `66.84`) → watts. */
export function parseWatts(text: string): SmiCell {
  return parseQuantity(text, { w: 1, mw: 1e-3 }, 'w');
}

/** Temperature cell (`37 C`, `37`) → °C. */
export function parseCelsius(text: string): SmiCell {
  return parseQuantity(text, { c: 1 }, 'c');
}

/** A non-negative integer such as a pid or an index; anything else fails. */
export function parseCount(text: string): SmiCell {
  const raw = text.trim();
  const status = readStatus(raw);
  if (status) return { ok: false, status, raw };
  if (!/^\d+$/.test(raw)) return { ok: false, status: 'malformed', raw };
  return { ok: true, value: Number(raw) };
}

/** A text value, or `null` for a "no value" token or an empty string. */
export function parseText(text: string | undefined): string | null {
  if (text === undefined) return null;
  const trimmed = text.trim();
  return readStatus(trimmed) ? null : trimmed;
}

const STATUS_WORDS: Readonly<Record<SmiStatus, string>> = {
  not_supported: 'is not supported by this GPU or driver',
  not_available: 'is not available (N/A)',
  no_permission:
    'needs more permissions (run as root, or give the container the GPU device)',
  unknown_error: 'failed with an unknown driver error',
  deprecated: 'is deprecated by this driver',
  gpu_lost: 'cannot be read: the GPU is lost',
  empty: 'is empty',
  unrecognized: 'holds a status gpuwarden does not know',
  malformed: 'is not a number in a known unit',
};

/** Problem kind for a status, stable for dashboards and tests. */
export function problemKindOf(status: SmiStatus): string {
  if (status === 'not_supported') return 'field_unsupported';
  if (status === 'no_permission') return 'field_no_permission';
  if (status === 'malformed' || status === 'unrecognized') {
    return 'field_malformed';
  }
  if (status === 'unknown_error' || status === 'gpu_lost') {
    return 'field_error';
  }
  if (status === 'deprecated') return 'field_deprecated';
  return 'field_unavailable';
}

/** One line for people: `memory.used is not available (N/A): "[N/A]"`. */
export function describeStatus(
  field: string,
  status: SmiStatus,
  raw: string,
): string {
  return `${field} ${STATUS_WORDS[status]}: "${raw}"`;
}
