/**
 * Time as the rest of gpuwarden sees it. Nothing else calls `Date.now()`,
 * `performance.now()`, `setTimeout` or `setInterval`: components take a
 * `Clock` so tests and replays can move time by hand.
 */

/** Cancels a timer created by a {@link Clock}. Safe to call twice. */
export type CancelTimer = () => void;

/** Wall time for stamps, monotonic time for intervals, and timers. */
export interface Clock {
  /** Wall-clock time in milliseconds since the Unix epoch (UTC). */
  nowMs(): number;
  /** Monotonic milliseconds from an arbitrary origin; never goes back. */
  monotonicMs(): number;
  /** Runs `fn` once after `delayMs`. */
  setTimeout(fn: () => void, delayMs: number): CancelTimer;
  /** Runs `fn` every `intervalMs` until cancelled. */
  setInterval(fn: () => void, intervalMs: number): CancelTimer;
  /** Resolves after `delayMs`; rejects with the signal's reason if aborted. */
  sleep(delayMs: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock of the host. */
export function createSystemClock(): Clock {
  const sleep = (delayMs: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(handle);
        reject(signal?.reason);
      };
      const handle = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, delayMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  return {
    nowMs: () => Date.now(),
    monotonicMs: () => performance.now(),
    setTimeout: (fn, delayMs) => {
      const handle = setTimeout(fn, delayMs);
      return () => clearTimeout(handle);
    },
    setInterval: (fn, intervalMs) => {
      const handle = setInterval(fn, intervalMs);
      return () => clearInterval(handle);
    },
    sleep,
  };
}
