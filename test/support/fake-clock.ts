/**
 * The clock tests use: a {@link ManualClock} that starts at a given wall
 * time with monotonic time at 0, lets promises settle between timers so
 * async loops progress as they would in real time, and can step wall time
 * alone (an NTP step).
 */
import { ManualClock } from '../../shared/src/manual-clock.ts';

export class FakeClock extends ManualClock {
  private readonly startMs: number;
  private wallOffsetMs = 0;

  constructor(startIso = '2026-02-28T14:00:00Z') {
    super(Date.parse(startIso));
    this.startMs = Date.parse(startIso);
  }

  override nowMs(): number {
    return super.nowMs() + this.wallOffsetMs;
  }

  override monotonicMs(): number {
    return super.nowMs() - this.startMs;
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    await flushPromises();
    await this.advanceTo(super.nowMs() + ms, flushPromises);
    await flushPromises();
  }

  /** Jumps wall time only (an NTP step); monotonic time stays. */
  stepWall(ms: number): void {
    this.wallOffsetMs += ms;
  }
}

/** Lets pending promise callbacks run. */
export async function flushPromises(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i += 1) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
