/**
 * When the ingest reads an agent stream: not while the agent's rate limit
 * makes it wait, not while too many of its bytes wait for the journal, and
 * no stream at all while too many bytes wait over all streams. Reading
 * stops by pausing the gRPC call; the agent's HTTP/2 window then fills up
 * and it stops sending (`flow-window.ts` bounds what it sends before).
 */
import type { Clock } from '../../../shared/src/clock.ts';
import { TokenBucket } from './rate-limit.ts';
import type { RateLimit } from './rate-limit.ts';

/** Limits on bytes waiting for the journal. */
export interface PendingLimits {
  /** Pause reading a stream with this many bytes waiting. */
  perStreamBytes: number;
  /** Pause reading every stream while this many wait in total. */
  totalBytes: number;
}

/** What the flows of all streams share. */
export class FlowPool {
  /** Bytes waiting for the journal, all streams together. */
  pendingBytes = 0;
  /** Every stream's flow, to pause them all at once. */
  readonly flows = new Set<StreamFlow>();
  /** Flows paused because of the total, to resume when it goes down. */
  readonly heldBack = new Set<StreamFlow>();

  constructor(readonly limits: PendingLimits) {}

  /** Whether the total is at its limit. */
  get overTotal(): boolean {
    return this.pendingBytes >= this.limits.totalBytes;
  }
}

/** What a flow needs of its gRPC call. */
export interface Pausable {
  pause(): unknown;
  resume(): unknown;
}

/** One stream's flow control. */
export class StreamFlow {
  /** Bytes of this stream's messages waiting for the journal. */
  private pendingBytes = 0;
  private rateWaiting = false;
  private paused = false;
  private closed = false;
  private readonly bucket: TokenBucket;

  constructor(
    private readonly call: Pausable,
    private readonly pool: FlowPool,
    rateLimit: RateLimit,
    private readonly clock: Clock,
  ) {
    this.bucket = new TokenBucket(rateLimit, clock.monotonicMs());
    pool.flows.add(this);
  }

  /** Counts bytes that now wait for the journal. */
  add(bytes: number): void {
    const wasUnder = !this.pool.overTotal;
    this.pendingBytes += bytes;
    this.pool.pendingBytes += bytes;
    this.update();
    // Stop reading every stream now, not as each sends its next frame.
    if (wasUnder && this.pool.overTotal) {
      this.pool.flows.forEach((flow) => flow.update());
    }
  }

  /** Counts bytes that no longer wait (stored, or given up). */
  release(bytes: number): void {
    this.pendingBytes -= bytes;
    this.pool.pendingBytes -= bytes;
    this.update();
    if (this.pool.overTotal) return;
    const held = [...this.pool.heldBack];
    this.pool.heldBack.clear();
    held.forEach((flow) => flow.update());
  }

  /** Takes `count` messages from the rate limit, pausing for any wait. */
  limitRate(count: number): void {
    const waitMs = this.bucket.take(count, this.clock.monotonicMs());
    if (waitMs === 0) return;
    this.rateWaiting = true;
    this.update();
    this.clock.setTimeout(() => {
      this.rateWaiting = false;
      this.update();
    }, waitMs);
  }

  /** Leaves the pool once the stream has ended (bytes are still counted). */
  close(): void {
    this.closed = true;
    this.pool.flows.delete(this);
    this.pool.heldBack.delete(this);
  }

  /** Pauses or resumes reading as the limits say. */
  private update(): void {
    if (this.closed) return;
    const overTotal = this.pool.overTotal;
    const shouldPause =
      this.rateWaiting ||
      this.pendingBytes >= this.pool.limits.perStreamBytes ||
      overTotal;
    if (overTotal) this.pool.heldBack.add(this);
    if (shouldPause && !this.paused) this.call.pause();
    if (!shouldPause && this.paused) this.call.resume();
    this.paused = shouldPause;
  }
}
