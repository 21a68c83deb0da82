/**
 * Folds request outcomes into per-interval SLI events. Intervals are
 * aligned to multiples of `intervalMs` since the epoch (whole minutes by
 * default) so the collector's minute buckets sum them exactly. Pure: time
 * comes in with every call.
 */
import {
  LATENCY_BOUNDS_MS,
  latencyBucket,
} from '../../../shared/src/messages.ts';
import type { SliEvent } from '../../../shared/src/messages.ts';

/** Options of {@link SliAggregator}. */
export interface SliAggregatorOptions {
  source: SliEvent['source'];
  /** Workload name in the events, e.g. `ollama`. */
  workload: string;
  /** The watched model, or `null` when every model counts. */
  model: string | null;
  /** Interval length in ms; default 60 000. */
  intervalMs: number;
  /** How long after an interval ends it stays open for late lines, ms. */
  graceMs: number;
}

/** One request's outcome: failed, or served in `latencyMs`. */
export interface RequestOutcome {
  /** Completion time, epoch ms. */
  atMs: number;
  failed: boolean;
  /** Latency of a served request; ignored for failed ones. */
  latencyMs: number;
}

interface Counts {
  total: number;
  failed: number;
  latencyCounts: number[];
}

/** Counters of what did not fall where it belonged. */
export interface SliAggregatorStats {
  /** Outcomes older than the last flushed interval, counted in the next. */
  late: number;
  /** Outcomes stamped over one interval ahead of now, counted at now. */
  future: number;
}

/** Per-interval counting of served and failed requests. */
export class SliAggregator {
  private readonly open = new Map<number, Counts>();
  private flushedUntilMs: number | null = null;
  private readonly counters: SliAggregatorStats = { late: 0, future: 0 };

  constructor(private readonly options: SliAggregatorOptions) {}

  /** Starts counting at `nowMs`: empty intervals from here on are emitted. */
  begin(nowMs: number): void {
    this.flushedUntilMs ??= this.startOf(nowMs);
  }

  /** Counts one outcome; `nowMs` bounds stamps from a skewed clock. */
  add(outcome: RequestOutcome, nowMs: number): void {
    this.begin(nowMs);
    let atMs = outcome.atMs;
    if (atMs > nowMs + this.options.intervalMs) {
      this.counters.future += 1;
      atMs = nowMs;
    }
    if (this.flushedUntilMs !== null && atMs < this.flushedUntilMs) {
      this.counters.late += 1;
      atMs = this.flushedUntilMs;
    }

    const counts = this.countsAt(this.startOf(atMs));
    counts.total += 1;
    if (outcome.failed) counts.failed += 1;
    else counts.latencyCounts[latencyBucket(outcome.latencyMs)]! += 1;
  }

  /** Closes every interval that ended `graceMs` or more before `nowMs`. */
  flush(nowMs: number): SliEvent[] {
    this.begin(nowMs);
    const events: SliEvent[] = [];
    const { intervalMs, graceMs } = this.options;
    while ((this.flushedUntilMs ?? 0) + intervalMs + graceMs <= nowMs) {
      events.push(this.close(this.flushedUntilMs ?? 0));
    }
    return events;
  }

  /** Closes every interval with data or time in it (on stop). */
  flushAll(nowMs: number): SliEvent[] {
    const events = this.flush(nowMs);
    const lastStartMs = Math.max(this.startOf(nowMs), ...this.open.keys());
    while ((this.flushedUntilMs ?? 0) <= lastStartMs) {
      events.push(this.close(this.flushedUntilMs ?? 0));
    }
    return events;
  }

  /** Outcomes moved to another interval than their stamp. */
  stats(): SliAggregatorStats {
    return { ...this.counters };
  }

  private close(startMs: number): SliEvent {
    const counts = this.open.get(startMs) ?? emptyCounts();
    this.open.delete(startMs);
    this.flushedUntilMs = startMs + this.options.intervalMs;
    return {
      source: this.options.source,
      workload: this.options.workload,
      model: this.options.model,
      intervalStartMs: startMs,
      intervalEndMs: startMs + this.options.intervalMs,
      ...counts,
    };
  }

  private countsAt(startMs: number): Counts {
    let counts = this.open.get(startMs);
    if (!counts) {
      counts = emptyCounts();
      this.open.set(startMs, counts);
    }
    return counts;
  }

  private startOf(atMs: number): number {
    const { intervalMs } = this.options;
    return Math.floor(atMs / intervalMs) * intervalMs;
  }
}

function emptyCounts(): Counts {
  return {
    total: 0,
    failed: 0,
    latencyCounts: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0),
  };
}
