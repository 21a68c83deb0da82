/**
 * The per-node state of one SLO: bucket series, the verdict in force and
 * the chart history. Pure bookkeeping; the engine does the I/O.
 */
import type { SliEvent } from '../../../shared/src/messages.ts';
import type { AlertState, FiringRule } from '../slo/alert-state.ts';
import { evaluateSlo } from '../slo/alert-rules.ts';
import type { SloVerdict } from '../slo/alert-rules.ts';
import { BucketSeries } from '../slo/bucket-series.ts';
import type { SloDefinition } from '../slo/slo-config.ts';
import { sliCounts, sliEventTimeMs } from '../slo/sli.ts';
import type { LoadedSeries, StoredSeries } from './series-store.ts';
import { SERIES_FILE_VERSION } from './series-store.ts';
import type { SloHistoryPoint, SloStatus } from './engine-types.ts';

/** What happened to one SLI event. */
export type CountOutcome =
  'counted' | 'ignored' | 'invalid' | 'too_old' | 'from_future';

interface NodeEntry {
  series: BucketSeries | null;
  lastFiring: FiringRule | null;
  verdict: SloVerdict | null;
  history: SloHistoryPoint[];
  dirty: boolean;
}

/** One SLO across nodes. */
export class SloTracker {
  private readonly nodes = new Map<string, NodeEntry>();

  constructor(
    readonly slo: SloDefinition,
    private readonly historyPoints: number,
  ) {}

  /** Counts one event of `node` received at `nowMs`. */
  count(node: string, event: SliEvent, nowMs: number): CountOutcome {
    const counts = sliCounts(event, this.slo);
    if (counts.kind !== 'counts') return counts.kind;

    const entry = this.entry(node);
    entry.series ??= new BucketSeries(this.slo.bucketWidthMs, this.capacity());
    const nowIndex = entry.series.indexOf(nowMs);
    const eventIndex = entry.series.indexOf(sliEventTimeMs(event));
    const index = Math.min(eventIndex, nowIndex);
    const added = entry.series.add(index, counts.good, counts.total);
    if (added === 'too_old') return 'too_old';

    entry.dirty = true;
    return eventIndex > nowIndex ? 'from_future' : 'counted';
  }

  /** Makes `node` known so it is judged even before it sends an SLI. */
  touch(node: string): void {
    this.entry(node);
  }

  /** Judges every known node at `nowMs`. */
  evaluate(
    nowMs: number,
    lastSeenMs: (node: string) => number | null,
  ): { state: AlertState; changed: boolean; previous: FiringRule | null }[] {
    return [...this.nodes].map(([node, entry]) => {
      const verdict = evaluateSlo({
        slo: this.slo,
        scope: node,
        series: entry.series,
        nowMs,
        lastSeenMs: lastSeenMs(node),
        previousFiring: entry.lastFiring,
      });
      const previous = entry.lastFiring;
      const changed = previous?.rule !== verdict.state.firing?.rule;
      entry.lastFiring = verdict.state.firing;
      entry.verdict = verdict;
      entry.dirty ||= changed;
      this.record(entry, verdict.state);
      return { state: verdict.state, changed, previous };
    });
  }

  /** Status rows of nodes judged at least once. */
  status(): SloStatus[] {
    const rows: SloStatus[] = [];
    for (const [node, entry] of this.nodes) {
      const verdict = entry.verdict;
      if (verdict === null) continue;
      rows.push({
        slo: this.slo.name,
        node,
        targetPercent: this.slo.targetPercent,
        evaluatedAtMs: verdict.state.evaluatedAtMs,
        dataState: verdict.state.dataState,
        burnRates: verdict.state.burnRates,
        budgetRemainingRatio: verdict.state.budgetRemainingRatio,
        firing: verdict.state.firing,
        windows: verdict.windows,
        period: verdict.period,
        history: [...entry.history],
      });
    }
    return rows;
  }

  /** Series changed since the last call, in their stored form. */
  takeDirty(lastSeenMs: (node: string) => number | null): StoredSeries[] {
    const out: StoredSeries[] = [];
    for (const [node, entry] of this.nodes) {
      if (!entry.dirty) continue;
      entry.dirty = false;
      out.push({
        version: SERIES_FILE_VERSION,
        slo: this.slo.name,
        node,
        bucketWidthMs: this.slo.bucketWidthMs,
        lastSeenMs: lastSeenMs(node),
        lastFiring: entry.lastFiring,
        series: entry.series?.toJSON() ?? null,
      });
    }
    return out;
  }

  /** Marks a node's series as not yet written (a write failed). */
  markDirty(node: string): void {
    const entry = this.nodes.get(node);
    if (entry) entry.dirty = true;
  }

  /** Restores a series read from disk. */
  restore(loaded: LoadedSeries): void {
    const entry = this.entry(loaded.node);
    entry.series = loaded.series;
    entry.lastFiring = loaded.lastFiring;
  }

  /** Bytes held by the series' rings. */
  memoryBytes(): number {
    let bytes = 0;
    for (const entry of this.nodes.values()) {
      bytes += entry.series?.memoryBytes() ?? 0;
    }
    return bytes;
  }

  private capacity(): number {
    return this.slo.periodMs / this.slo.bucketWidthMs + 1;
  }

  private entry(node: string): NodeEntry {
    let entry = this.nodes.get(node);
    if (!entry) {
      entry = {
        series: null,
        lastFiring: null,
        verdict: null,
        history: [],
        dirty: false,
      };
      this.nodes.set(node, entry);
    }
    return entry;
  }

  /** Keeps one chart point per bucket: the latest evaluation in it. */
  private record(entry: NodeEntry, state: AlertState): void {
    const point: SloHistoryPoint = {
      atMs: state.evaluatedAtMs,
      burnRates: state.burnRates,
      budgetRemainingRatio: state.budgetRemainingRatio,
      dataState: state.dataState,
    };
    const width = this.slo.bucketWidthMs;
    const last = entry.history[entry.history.length - 1];
    const sameBucket =
      last !== undefined &&
      Math.ceil(last.atMs / width) === Math.ceil(point.atMs / width);
    if (sameBucket) entry.history.pop();
    entry.history.push(point);
    if (entry.history.length > this.historyPoints) entry.history.shift();
  }
}
