/**
 * The agent's outbox: every message not yet acknowledged by the collector,
 * in seq order. Messages live in memory and are spilled to disk (fsynced
 * segments under the outbox directory) when the collector is away or slow;
 * spilled messages leave memory once the memory part is over its bound and
 * are read back when their turn to be sent comes. The whole outbox is
 * bounded in bytes: over the bound, snapshots are thinned (`thinning.ts`)
 * and counted; SLI, guard, health and hello messages are never dropped.
 */
import type { Logger } from '../../../shared/src/logger.ts';
import { planThinning } from './thinning.ts';
import { SpillStore } from './spill-store.ts';
import type { SpillRecord } from './spill-format.ts';

/** Sizes and thinning of the outbox. */
export interface OutboxOptions {
  /** Directory of the spill segments. */
  dir: string;
  /** Bound of the whole outbox (memory and disk), bytes; default 256 MiB. */
  maxBytes: number;
  /** Bound of message bytes held in memory, bytes; default 16 MiB. */
  memoryMaxBytes: number;
  /** First thinning interval: one snapshot per this many ms; default 10 s. */
  thinIntervalMs: number;
}

/** A queued message. */
export interface OutboxEntry {
  seq: number;
  /** Payload type: `snapshot`, `sli`, `guard`, `health`, `hello`. */
  kind: string;
  /** Snapshot time for snapshots (thinning), else the send time, ms. */
  atMs: number;
  sizeBytes: number;
  /** Encoded message; null while it is only on disk. */
  bytes: Buffer | null;
  /** Spill segment holding it; null when only in memory. */
  segment: number | null;
}

/** Counts for status and health reports. */
export interface OutboxCounts {
  messages: number;
  bytes: number;
  memoryBytes: number;
  spilledMessages: number;
  /** Snapshots dropped by thinning since the agent started. */
  thinnedMessages: number;
}

/** Thinning aims this far below the bound, so it does not run every push. */
const THIN_TARGET_RATIO = 0.8;

/** Unacknowledged messages, in memory and spilled. */
export class Outbox {
  private entries: OutboxEntry[] = [];
  private totalBytes = 0;
  private memoryBytes = 0;
  private thinned = 0;
  private readonly live = new Map<number, number>();
  private disk: Promise<void> = Promise.resolve();
  private queuedSpill: Promise<void> | null = null;
  private cache: { segment: number; bySeq: Map<number, Buffer> } | null = null;

  /** Called with the running total after snapshots were thinned. */
  onThinned: (thinnedTotal: number) => void = () => {};

  private constructor(
    private readonly options: OutboxOptions,
    private readonly store: SpillStore,
    private readonly log: Logger,
  ) {}

  /** Opens the outbox, loading what an earlier run spilled. */
  static async open(options: OutboxOptions, logger: Logger): Promise<Outbox> {
    const { store, stored } = await SpillStore.open(options.dir);
    const outbox = new Outbox(options, store, logger);
    for (const { segment, record } of stored) outbox.restore(segment, record);
    if (stored.length > 0) {
      logger.info(
        { messages: stored.length, bytes: outbox.totalBytes },
        'outbox restored from disk',
      );
    }
    return outbox;
  }

  /** Adds a message (seqs must increase); thins snapshots when over the bound. */
  push(entry: {
    seq: number;
    kind: string;
    atMs: number;
    bytes: Buffer;
  }): void {
    this.entries.push({
      ...entry,
      sizeBytes: entry.bytes.length,
      segment: null,
    });
    this.totalBytes += entry.bytes.length;
    this.memoryBytes += entry.bytes.length;
    if (this.totalBytes > this.options.maxBytes) this.thin();
  }

  /**
   * Entries after `afterSeq`, in order, up to `throughSeq`, at most
   * `maxMessages` of them and `maxBytes` together (at least one).
   */
  after(
    afterSeq: number,
    limits: { throughSeq: number; maxMessages: number; maxBytes: number },
  ): OutboxEntry[] {
    const result: OutboxEntry[] = [];
    let bytes = 0;
    for (let i = this.indexAfter(afterSeq); i < this.entries.length; i += 1) {
      const entry = this.entries[i]!;
      const full =
        result.length >= limits.maxMessages ||
        (result.length > 0 && bytes + entry.sizeBytes > limits.maxBytes);
      if (entry.seq > limits.throughSeq || full) break;
      result.push(entry);
      bytes += entry.sizeBytes;
    }
    return result;
  }

  /** An entry's bytes, from memory or its spill segment; null if gone. */
  async bytesOf(entry: OutboxEntry): Promise<Buffer | null> {
    if (entry.bytes !== null) return entry.bytes;
    if (entry.segment === null) return null;
    if (this.cache?.segment !== entry.segment) {
      const records = await this.store.read(entry.segment);
      this.cache = {
        segment: entry.segment,
        bySeq: new Map(records.map((r) => [r.seq, r.bytes])),
      };
    }
    return this.cache.bySeq.get(entry.seq) ?? null;
  }

  /** Forgets every entry with seq ≤ `seq` (acknowledged by the collector). */
  ack(seq: number): void {
    const count = this.indexAfter(seq);
    if (count === 0) return;
    for (const entry of this.entries.splice(0, count)) this.forget(entry);
    this.collectSegments();
  }

  /** Writes every entry not yet on disk to the spill, then trims memory. */
  spill(): Promise<void> {
    this.queuedSpill ??= this.onDisk(async () => {
      this.queuedSpill = null;
      await this.spillNow();
    }, 'outbox spill failed; messages stay in memory only');
    return this.queuedSpill;
  }

  /** True when some entries exist only in memory. */
  hasUnspilled(): boolean {
    return this.entries.at(-1)?.segment === null;
  }

  /** Counts for status. */
  counts(): OutboxCounts {
    return {
      messages: this.entries.length,
      bytes: this.totalBytes,
      memoryBytes: this.memoryBytes,
      spilledMessages: this.entries.filter((e) => e.segment !== null).length,
      thinnedMessages: this.thinned,
    };
  }

  /** Waits for disk work and closes the spill file. */
  async close(): Promise<void> {
    await this.disk;
    await this.store.close();
  }

  private restore(segment: number, record: SpillRecord): void {
    const last = this.entries.at(-1);
    if (last !== undefined && record.seq <= last.seq) return;
    this.entries.push({
      seq: record.seq,
      kind: record.kind,
      atMs: record.atMs,
      sizeBytes: record.bytes.length,
      bytes: null,
      segment,
    });
    this.totalBytes += record.bytes.length;
    this.live.set(segment, (this.live.get(segment) ?? 0) + 1);
  }

  private indexAfter(seq: number): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.entries[mid]!.seq <= seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private forget(entry: OutboxEntry): void {
    this.totalBytes -= entry.sizeBytes;
    if (entry.bytes !== null) this.memoryBytes -= entry.sizeBytes;
    if (entry.segment !== null) {
      this.live.set(entry.segment, (this.live.get(entry.segment) ?? 1) - 1);
    }
  }

  private async spillNow(): Promise<void> {
    const pending = this.entries.filter(
      (e) => e.segment === null && e.bytes !== null,
    );
    if (pending.length === 0) return;
    const records = pending.map((e) => ({
      seq: e.seq,
      kind: e.kind,
      atMs: e.atMs,
      bytes: e.bytes!,
    }));
    const segment = await this.store.append(records);
    const stillQueued = new Set(this.entries.map((e) => e.seq));
    for (const entry of pending) {
      if (!stillQueued.has(entry.seq)) continue;
      entry.segment = segment;
      this.live.set(segment, (this.live.get(segment) ?? 0) + 1);
    }
    this.trimMemory();
    this.collectSegments();
  }

  private trimMemory(): void {
    for (const entry of this.entries) {
      if (this.memoryBytes <= this.options.memoryMaxBytes) return;
      if (entry.segment === null || entry.bytes === null) continue;
      entry.bytes = null;
      this.memoryBytes -= entry.sizeBytes;
    }
  }

  private thin(): void {
    const target = this.options.maxBytes * THIN_TARGET_RATIO;
    const drop = planThinning(
      this.entries,
      target,
      this.options.thinIntervalMs,
    );
    if (drop.size === 0) return;
    const touched = new Set<number>();
    this.entries = this.entries.filter((entry) => {
      if (!drop.has(entry.seq)) return true;
      this.forget(entry);
      if (entry.segment !== null) touched.add(entry.segment);
      return false;
    });
    this.thinned += drop.size;
    this.log.warn(
      {
        dropped: drop.size,
        thinnedTotal: this.thinned,
        bytes: this.totalBytes,
      },
      'outbox full, snapshots thinned',
    );
    this.rewriteSegments(touched, drop);
    this.onThinned(this.thinned);
  }

  private rewriteSegments(segments: Set<number>, drop: Set<number>): void {
    for (const segment of segments) {
      if ((this.live.get(segment) ?? 0) <= 0) continue;
      this.disk = this.disk.then(() =>
        this.store.rewrite(segment, (seq) => !drop.has(seq)),
      );
    }
    this.cache = null;
    this.collectSegments();
  }

  /** Runs disk work one task at a time; a failure is logged, never thrown. */
  private onDisk(task: () => Promise<void>, failure: string): Promise<void> {
    this.disk = this.disk.then(task).catch((error: unknown) => {
      this.log.error({ err: error, dir: this.options.dir }, failure);
    });
    return this.disk;
  }

  private collectSegments(): void {
    for (const [segment, count] of this.live) {
      if (count > 0 || segment >= this.store.currentSegment()) continue;
      this.live.delete(segment);
      void this.onDisk(
        () => this.store.remove(segment),
        'outbox spill segment removal failed',
      );
    }
  }
}
