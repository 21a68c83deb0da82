/** Building timeline entries. */
import type { TimelineEntry } from './incident.ts';

/** A timeline entry. */
export function entry(
  at: string,
  kind: TimelineEntry['kind'],
  text: string,
  data?: Record<string, unknown>,
  actor = 'system',
): TimelineEntry {
  return data === undefined
    ? { at, kind, actor, text }
    : { at, kind, actor, text, data };
}
