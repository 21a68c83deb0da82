/** Reconnect delays: exponential backoff with jitter (pure). */

/** Bounds of the backoff, in milliseconds. */
export interface BackoffOptions {
  /** First delay; default 1 s. */
  initialMs: number;
  /** Longest delay; default 60 s. */
  maxMs: number;
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first retry):
 * `min(maxMs, initialMs · 2^attempt)`, of which a random half is waited
 * ("equal jitter"), so agents that lost the collector together do not all
 * come back in the same millisecond. `random` returns [0, 1).
 */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions,
  random: () => number,
): number {
  const capMs = Math.min(
    options.maxMs,
    options.initialMs * 2 ** Math.min(attempt, 30),
  );
  return Math.round(capMs / 2 + (random() * capMs) / 2);
}
