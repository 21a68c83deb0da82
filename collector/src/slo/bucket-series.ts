/**
 * Good/total counts of one SLO for one scope in fixed-width time buckets,
 * held as running (prefix) sums in a ring. Any window ending at the newest
 * bucket is two subtractions, so evaluation cost does not grow with the
 * window; memory is two 8-byte numbers per bucket of the SLO period.
 * Counts are integers well below 2^53, so the sums are exact.
 */

/** Sums of one window. */
export interface WindowCounts {
  good: number;
  total: number;
  /** Buckets of the window at or after the first bucket with data. */
  coveredBuckets: number;
}

/** The persisted form of a series (see {@link BucketSeries.toJSON}). */
export interface SeriesData {
  bucketWidthMs: number;
  firstIndex: number;
  headIndex: number;
  /** Non-empty buckets, oldest first: `[index, good, total]`. */
  buckets: [number, number, number][];
}

/** Why an add was refused. */
export type AddOutcome = 'added' | 'too_old';

/** A ring of prefix sums over `capacity` buckets. */
export class BucketSeries {
  private readonly cumGood: Float64Array;
  private readonly cumTotal: Float64Array;
  private head: number | null = null;
  private first: number | null = null;

  /**
   * @param bucketWidthMs width of one bucket
   * @param capacity buckets kept; a window may span at most capacity − 1
   */
  constructor(
    readonly bucketWidthMs: number,
    readonly capacity: number,
  ) {
    this.cumGood = new Float64Array(capacity);
    this.cumTotal = new Float64Array(capacity);
  }

  /** The bucket index holding time `atMs`. */
  indexOf(atMs: number): number {
    return Math.floor(atMs / this.bucketWidthMs);
  }

  /** First bucket with data (or seen), null when empty. */
  firstIndex(): number | null {
    return this.first;
  }

  /** Newest bucket held, null when empty. */
  headIndex(): number | null {
    return this.head;
  }

  /** Adds counts to bucket `index`; refuses buckets older than the ring. */
  add(index: number, good: number, total: number): AddOutcome {
    if (this.head === null || this.first === null) {
      this.head = index;
      this.first = index;
      this.cumGood[this.slot(index)] = good;
      this.cumTotal[this.slot(index)] = total;
      return 'added';
    }
    if (index > this.head) this.advanceTo(index);
    if (index < this.head - this.capacity + 1) return 'too_old';
    if (index < this.first) this.first = index;

    for (let i = index; i <= this.head; i += 1) {
      this.cumGood[this.slot(i)]! += good;
      this.cumTotal[this.slot(i)]! += total;
    }
    return 'added';
  }

  /** Moves the head to `index`, the buckets in between empty. */
  advanceTo(index: number): void {
    if (this.head === null || index <= this.head) return;
    const good = this.cumGood[this.slot(this.head)]!;
    const total = this.cumTotal[this.slot(this.head)]!;
    if (index - this.head >= this.capacity) {
      this.cumGood.fill(good);
      this.cumTotal.fill(total);
    } else {
      for (let i = this.head + 1; i <= index; i += 1) {
        this.cumGood[this.slot(i)] = good;
        this.cumTotal[this.slot(i)] = total;
      }
    }
    this.head = index;
  }

  /** Sums of the `buckets` buckets ending with bucket `endIndex`. */
  window(endIndex: number, buckets: number): WindowCounts {
    if (this.first === null || buckets < 1) {
      return { good: 0, total: 0, coveredBuckets: 0 };
    }
    const span = Math.min(buckets, this.capacity - 1);
    const startIndex = endIndex - span + 1;
    return {
      good:
        this.cumAt(this.cumGood, endIndex) -
        this.cumAt(this.cumGood, startIndex - 1),
      total:
        this.cumAt(this.cumTotal, endIndex) -
        this.cumAt(this.cumTotal, startIndex - 1),
      coveredBuckets: Math.max(0, Math.min(span, endIndex - this.first + 1)),
    };
  }

  /** The retained non-empty buckets, for persistence. */
  toJSON(): SeriesData | null {
    if (this.head === null || this.first === null) return null;
    const oldest = Math.max(this.first, this.head - this.capacity + 2);
    const buckets: [number, number, number][] = [];
    for (let i = oldest; i <= this.head; i += 1) {
      const good =
        this.cumAt(this.cumGood, i) - this.cumAt(this.cumGood, i - 1);
      const total =
        this.cumAt(this.cumTotal, i) - this.cumAt(this.cumTotal, i - 1);
      if (good !== 0 || total !== 0) buckets.push([i, good, total]);
    }
    return {
      bucketWidthMs: this.bucketWidthMs,
      firstIndex: this.first,
      headIndex: this.head,
      buckets,
    };
  }

  /** Rebuilds a series from {@link toJSON}'s output. */
  static fromJSON(data: SeriesData, capacity: number): BucketSeries {
    const series = new BucketSeries(data.bucketWidthMs, capacity);
    const start = Math.max(data.firstIndex, data.headIndex - capacity + 2);
    series.add(start, 0, 0);
    for (const [index, good, total] of data.buckets) {
      if (index >= start) series.add(index, good, total);
    }
    series.advanceTo(data.headIndex);
    series.first = data.firstIndex;
    return series;
  }

  /** Bytes held by the ring's arrays. */
  memoryBytes(): number {
    return this.cumGood.byteLength + this.cumTotal.byteLength;
  }

  private cumAt(sums: Float64Array, index: number): number {
    if (this.head === null || this.first === null) return 0;
    if (index < this.first) return 0;
    const clamped = Math.min(index, this.head);
    return sums[this.slot(Math.max(clamped, this.head - this.capacity + 1))]!;
  }

  private slot(index: number): number {
    return ((index % this.capacity) + this.capacity) % this.capacity;
  }
}
