/**
 * A clock that moves only when a test says so. Timers fire in time order
 * during {@link FakeClock.advance}; promises get a chance to settle between
 * timers so async loops progress as they would in real time.
 */
import type { CancelTimer, Clock } from '../../shared/src/clock.ts';

interface Timer {
  id: number;
  dueMs: number;
  intervalMs: number | null;
  fn: () => void;
}

export class FakeClock implements Clock {
  private wallMs: number;
  private monoMs = 0;
  private nextId = 1;
  private timers: Timer[] = [];

  constructor(startIso = '2026-02-28T14:00:00Z') {
    this.wallMs = Date.parse(startIso);
  }

  nowMs(): number {
    return this.wallMs;
  }

  monotonicMs(): number {
    return this.monoMs;
  }

  setTimeout(fn: () => void, delayMs: number): CancelTimer {
    return this.add(fn, delayMs, null);
  }

  setInterval(fn: () => void, intervalMs: number): CancelTimer {
    return this.add(fn, intervalMs, Math.max(1, intervalMs));
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const cancel = this.setTimeout(resolve, delayMs);
      signal?.addEventListener('abort', () => {
        cancel();
        reject(signal.reason);
      });
    });
  }

  /** Number of timers waiting to fire. */
  pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    const targetMono = this.monoMs + ms;
    for (;;) {
      await flushPromises();
      const next = this.timers
        .filter((t) => t.dueMs <= targetMono)
        .sort((a, b) => a.dueMs - b.dueMs || a.id - b.id)[0];
      if (!next) break;
      this.moveTo(next.dueMs);
      if (next.intervalMs === null) {
        this.timers = this.timers.filter((t) => t !== next);
      } else {
        next.dueMs += next.intervalMs;
      }
      next.fn();
    }
    this.moveTo(targetMono);
    await flushPromises();
  }

  /** Jumps wall time only (an NTP step); monotonic time stays. */
  stepWall(ms: number): void {
    this.wallMs += ms;
  }

  private moveTo(monoMs: number): void {
    this.wallMs += monoMs - this.monoMs;
    this.monoMs = monoMs;
  }

  private add(fn: () => void, delayMs: number, intervalMs: number | null) {
    const timer: Timer = {
      id: this.nextId++,
      dueMs: this.monoMs + Math.max(0, delayMs),
      intervalMs,
      fn,
    };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }
}

/** Lets pending promise callbacks run. */
export async function flushPromises(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i += 1) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
