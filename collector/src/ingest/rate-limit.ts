/** A token bucket counting messages (pure arithmetic on a monotonic clock). */

/** Messages per second with a burst allowance. */
export interface RateLimit {
  messagesPerSecond: number;
  burstMessages: number;
}

/** Tracks one agent's allowance; starts full. */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly limit: RateLimit,
    nowMs: number,
  ) {
    this.tokens = limit.burstMessages;
    this.lastMs = nowMs;
  }

  /**
   * Takes `count` messages' worth at `nowMs` (going into debt if needed);
   * returns how long, in ms, the sender must wait before more.
   */
  take(count: number, nowMs: number): number {
    const elapsedMs = Math.max(0, nowMs - this.lastMs);
    this.lastMs = nowMs;
    this.tokens = Math.min(
      this.limit.burstMessages,
      this.tokens + (elapsedMs * this.limit.messagesPerSecond) / 1000,
    );
    this.tokens -= count;
    if (this.tokens >= 0) return 0;
    return Math.ceil((-this.tokens * 1000) / this.limit.messagesPerSecond);
  }
}
