/**
 * Conversions between gpuwarden values and their wire forms that every
 * codec module shares: 64-bit integers (exact or refused, never rounded),
 * enum tables, optional values (absent ⇄ null), ISO times ⇄ milliseconds
 * and JSON details.
 */

/** Why a wire value could not become a gpuwarden value. */
export class WireProblem extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field} ${reason}`);
    this.name = 'WireProblem';
  }
}

interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}

const TWO_POW_32 = 4294967296;

/**
 * A decoded integer (number, protobufjs `Long`, or decimal string) as an
 * exact JS number; throws {@link WireProblem} beyond 2^53 - 1.
 */
export function toSafeInteger(value: unknown, field: string): number {
  let result: number;
  if (typeof value === 'number') result = value;
  else if (typeof value === 'string') result = Number(value);
  else if (value !== null && typeof value === 'object' && 'low' in value) {
    const long = value as LongLike;
    const high = long.unsigned ? long.high >>> 0 : long.high;
    result = high * TWO_POW_32 + (long.low >>> 0);
  } else throw new WireProblem(field, 'must be an integer');
  if (!Number.isSafeInteger(result)) {
    throw new WireProblem(field, 'must be an integer below 2^53');
  }
  return result;
}

/**
 * An optional (presence-tracked) integer field of a decoded message: null
 * when absent, else exact. Presence is read from the message itself,
 * since protobufjs gives absent 64-bit fields a zero `Long` default.
 */
export function optionalInt(wire: object, key: string): number | null {
  return Object.hasOwn(wire, key)
    ? toSafeInteger((wire as Record<string, unknown>)[key], key)
    : null;
}

/** An optional field of a decoded message as is; null when absent. */
export function optional<T>(wire: object, key: string): T | null {
  return Object.hasOwn(wire, key)
    ? ((wire as Record<string, unknown>)[key] as T)
    : null;
}

/** Enum mapping in both directions; wire value 0 is always unspecified. */
export interface EnumTable<T extends string> {
  toWire(value: T): number;
  fromWire(value: number, field: string): T;
}

/** Builds an {@link EnumTable} from the TS values in wire order (1, 2, …). */
export function enumTable<T extends string>(
  values: readonly T[],
): EnumTable<T> {
  return {
    toWire: (value) => {
      const index = values.indexOf(value);
      if (index === -1) throw new WireProblem(String(value), 'is not known');
      return index + 1;
    },
    fromWire: (value, field) => {
      const result = values[value - 1];
      if (result === undefined) {
        throw new WireProblem(field, `has unknown enum value ${value}`);
      }
      return result;
    },
  };
}

/** An ISO 8601 time as epoch milliseconds; throws on an unparsable text. */
export function isoToMs(iso: string, field: string): number {
  const ms = canonicalIsoToMs(iso) ?? Date.parse(iso);
  if (!Number.isFinite(ms)) {
    throw new WireProblem(field, `must be an ISO 8601 time, got "${iso}"`);
  }
  return ms;
}

/** Epoch milliseconds as ISO 8601 UTC (`toISOString()`). */
export function msToIso(ms: number, field: string): string {
  if (Number.isInteger(ms) && ms >= 0 && ms < LAST_FAST_MS) {
    const day = dayOf(ms);
    let rest = ms - day.startMs;
    const hours = Math.floor(rest / 3_600_000);
    rest -= hours * 3_600_000;
    const minutes = Math.floor(rest / 60_000);
    rest -= minutes * 60_000;
    const seconds = Math.floor(rest / 1000);
    const millis = rest - seconds * 1000;
    return `${day.prefix}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[millis]}Z`;
  }
  const date = new Date(ms);
  if (!Number.isFinite(date.getTime())) {
    throw new WireProblem(field, 'is out of the representable time range');
  }
  return date.toISOString();
}

/*
 * Snapshot and process times are turned into text and back for every
 * message, and `Date` took about a microsecond for each. Times of one UTC
 * day share their first 11 characters, so the last day met is kept and
 * only the time of day is formatted or read.
 */
const DAY_MS = 86_400_000;
/** Up to here (year 9999) every time prints as `YYYY-MM-DDTHH:mm:ss.sssZ`. */
const LAST_FAST_MS = Date.UTC(10000, 0, 1);
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) =>
  String(i).padStart(2, '0'),
);
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) =>
  String(i).padStart(3, '0'),
);
let lastDay = { startMs: 0, prefix: '1970-01-01T' };

/** The UTC day of `ms` (not negative) and its `YYYY-MM-DDT` text. */
function dayOf(ms: number): { startMs: number; prefix: string } {
  const startMs = ms - (ms % DAY_MS);
  if (startMs !== lastDay.startMs) {
    lastDay = {
      startMs,
      prefix: new Date(startMs).toISOString().slice(0, 11),
    };
  }
  return lastDay;
}

/**
 * The time of a canonical `YYYY-MM-DDTHH:mm:ss.sssZ` text of the last day
 * met, read digit by digit; null for any other text (`Date.parse` reads
 * those).
 */
function canonicalIsoToMs(iso: string): number | null {
  const day = lastDay;
  if (
    iso.length !== 24 ||
    !iso.startsWith(day.prefix) ||
    iso[13] !== ':' ||
    iso[16] !== ':' ||
    iso[19] !== '.' ||
    iso[23] !== 'Z'
  ) {
    return null;
  }
  const hours = digits(iso, 11, 2);
  const minutes = digits(iso, 14, 2);
  const seconds = digits(iso, 17, 2);
  const millis = digits(iso, 20, 3);
  if (hours > 23 || minutes > 59 || seconds > 59 || millis > 999) return null;
  return (
    day.startMs + hours * 3_600_000 + minutes * 60_000 + seconds * 1000 + millis
  );
}

/** The decimal number `text[at, at + count)`; Infinity when not digits. */
function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i += 1) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Infinity;
    value = value * 10 + digit;
  }
  return value;
}

/** {@link msToIso} through a memo (bounded by clearing it when full). */
export function msToIsoMemo(
  ms: number,
  field: string,
  memo: Map<number, string>,
): string {
  let iso = memo.get(ms);
  if (iso === undefined) {
    iso = msToIso(ms, field);
    if (memo.size >= ISO_MEMO_ENTRIES) memo.clear();
    memo.set(ms, iso);
  }
  return iso;
}

const ISO_MEMO_ENTRIES = 65536;

/** Details object as JSON text. */
export function detailsToJson(details: Record<string, unknown>): string {
  return JSON.stringify(details ?? {});
}

/** JSON text of an object back to the object; empty text is `{}`. */
export function detailsFromJson(
  text: string,
  field: string,
): Record<string, unknown> {
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new WireProblem(field, 'must be JSON text');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new WireProblem(field, 'must be the JSON text of an object');
  }
  return value as Record<string, unknown>;
}
