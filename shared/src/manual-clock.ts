/**
 * A clock that moves only when it is told to: replay moves it to the times
 * recorded in a stream, tests move it by hand. Timers fire in time order
 * as it advances, so loops driven by it run exactly as they would live, at
 * simulated times.
 */
import type { CancelTimer, Clock } from './clock.ts';

interface Timer {
  id: number;
  dueMs: number;
  intervalMs: number | null;
  fn: () => void;
}

/** A simulated {@link Clock}; wall and monotonic time move together. */
export class ManualClock implements Clock {
  private timers: Timer[] = [];
  private nextId = 1;

  constructor(private currentMs: number) {}

  nowMs(): number {
    return this.currentMs;
  }

  monotonicMs(): number {
    return this.currentMs;
  }

  setTimeout(fn: () => void, delayMs: number): CancelTimer {
    return this.add(fn, delayMs, null);
  }

  setInterval(fn: () => void, intervalMs: number): CancelTimer {
    return this.add(fn, intervalMs, Math.max(1, intervalMs));
  }

  /** Resolves when the clock advances past `delayMs` from now. */
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

  /**
   * Moves to `targetMs` (never back), running each due timer at its own
   * time and awaiting `settle` after each, so work a timer starts is done
   * before time moves on.
   */
  async advanceTo(
    targetMs: number,
    settle: () => Promise<void> = async () => {},
  ): Promise<void> {
    for (;;) {
      const next = this.nextDue(targetMs);
      if (!next) break;
      this.currentMs = Math.max(this.currentMs, next.dueMs);
      if (next.intervalMs === null) {
        this.timers = this.timers.filter((t) => t !== next);
      } else {
        next.dueMs += next.intervalMs;
      }
      next.fn();
      await settle();
    }
    this.currentMs = Math.max(this.currentMs, targetMs);
  }

  /** Number of timers waiting to fire. */
  pendingTimers(): number {
    return this.timers.length;
  }

  private nextDue(targetMs: number): Timer | undefined {
    let best: Timer | undefined;
    for (const timer of this.timers) {
      if (timer.dueMs > targetMs) continue;
      if (!best || timer.dueMs < best.dueMs) best = timer;
      else if (timer.dueMs === best.dueMs && timer.id < best.id) best = timer;
    }
    return best;
  }

  private add(fn: () => void, delayMs: number, intervalMs: number | null) {
    const timer: Timer = {
      id: this.nextId++,
      dueMs: this.currentMs + Math.max(0, delayMs),
      intervalMs,
      fn,
    };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }
}
