/**
 * What people do to an incident through the API or CLI: acknowledge it
 * and resolve it by hand. Pure transitions, like `lifecycle.ts`.
 */
import type { Incident } from './incident.ts';
import { isActive, isoSeconds } from './incident.ts';
import { markResolved } from './lifecycle.ts';
import { entry } from './timeline.ts';

/** A person acknowledges; only an open incident can be acknowledged. */
export function acknowledge(
  incident: Incident,
  atMs: number,
  by: string,
  note: string | null,
): boolean {
  if (incident.status !== 'open') return false;
  incident.status = 'acknowledged';
  incident.acknowledgedAt = isoSeconds(atMs);
  incident.acknowledgedBy = by;
  const text = note ? `Acknowledged: ${note}` : 'Acknowledged';
  incident.timeline.push(
    entry(
      incident.acknowledgedAt,
      'acknowledged',
      text,
      note ? { note } : undefined,
      by,
    ),
  );
  return true;
}

/**
 * A person resolves an open or acknowledged incident. If the rule still
 * fires, firings are ignored until it has been seen clear once, so the
 * long window draining does not reopen it at once.
 */
export function resolveByHand(
  incident: Incident,
  atMs: number,
  by: string,
  note: string | null,
): boolean {
  if (!isActive(incident)) return false;
  markResolved(incident, atMs, atMs);
  incident.lifecycle.suppressUntilClear =
    incident.lifecycle.clearSinceMs === null;
  const text = note ? `Resolved by hand: ${note}` : 'Resolved by hand';
  incident.timeline.push(
    entry(isoSeconds(atMs), 'resolved', text, note ? { note } : undefined, by),
  );
  return true;
}
