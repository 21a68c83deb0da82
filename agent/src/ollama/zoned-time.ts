/**
 * Wall-clock time of a named time zone converted to UTC. Gin stamps request
 * lines with the server's local time and no zone; this turns such a stamp
 * into epoch milliseconds with the zone's rules (DST included).
 */

/** A local date and time as printed, month 1–12. */
export interface LocalTimeFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Converts local fields of one zone to epoch milliseconds (UTC). */
export type LocalToUtc = (fields: LocalTimeFields) => number;

const DAY_MS = 86_400_000;
const QUARTER_MS = 900_000;

/**
 * Builds a converter for an IANA zone (`Europe/Berlin`, `UTC`). In the hour
 * a DST change repeats, the earlier instant wins; in the hour it skips, the
 * time is read with the offset before the change.
 *
 * @throws RangeError when the zone is unknown.
 */
export function createLocalToUtc(timeZone: string): LocalToUtc {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const offsetMsAt = (utcMs: number): number => {
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(new Date(utcMs))) {
      if (part.type !== 'literal') parts[part.type] = Number(part.value);
    }
    const asUtc = Date.UTC(
      parts.year ?? 0,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    );
    return asUtc - Math.floor(utcMs / 1000) * 1000;
  };

  const convert = (naive: number): number => {
    const offsetsMs = [offsetMsAt(naive - DAY_MS), offsetMsAt(naive + DAY_MS)];
    const valid = offsetsMs
      .map((offsetMs) => naive - offsetMs)
      .filter((utcMs) => offsetMsAt(utcMs) === naive - utcMs);

    if (valid.length > 0) return Math.min(...valid);
    return naive - (offsetsMs[0] ?? 0);
  };

  // Zones change offset only on quarter hours, so one answer per quarter
  // serves every stamp in it; Intl is slow enough to matter per line.
  const offsetByQuarter = new Map<number, number>();
  return (fields) => {
    const naive = Date.UTC(
      fields.year,
      fields.month - 1,
      fields.day,
      fields.hour,
      fields.minute,
      fields.second,
    );
    const quarter = Math.floor(naive / QUARTER_MS);
    let offsetMs = offsetByQuarter.get(quarter);
    if (offsetMs === undefined) {
      if (offsetByQuarter.size >= 1000) offsetByQuarter.clear();
      offsetMs = quarter * QUARTER_MS - convert(quarter * QUARTER_MS);
      offsetByQuarter.set(quarter, offsetMs);
    }
    return naive - offsetMs;
  };
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}
