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
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) {
    throw new WireProblem(field, `must be an ISO 8601 time, got "${iso}"`);
  }
  return ms;
}

/** Epoch milliseconds as ISO 8601 UTC (`toISOString()`). */
export function msToIso(ms: number, field: string): string {
  const date = new Date(ms);
  if (!Number.isFinite(date.getTime())) {
    throw new WireProblem(field, 'is out of the representable time range');
  }
  return date.toISOString();
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
