/**
 * Which outbox entries to drop when the outbox is over its size (pure).
 * Only snapshots are ever dropped: SLI, guard, health and hello messages
 * are kept whatever it costs. Snapshots are thinned to one per interval,
 * oldest data first in the sense that every interval keeps its first
 * snapshot; the interval doubles from `baseIntervalMs` until the outbox
 * fits, and at the last step only the newest snapshot is kept.
 */

/** What the plan needs to know about an entry. */
export interface ThinCandidate {
  seq: number;
  kind: string;
  /** Snapshot time (ms since epoch) for snapshots; ignored for others. */
  atMs: number;
  sizeBytes: number;
}

/** Longest thinning interval before all but the newest snapshot go. */
export const MAX_THIN_INTERVAL_MS = 24 * 3600 * 1000;

/**
 * The seqs to drop so the entries fit in `targetBytes`; empty when they
 * already fit. May still not fit when the events alone are too big.
 */
export function planThinning(
  entries: readonly ThinCandidate[],
  targetBytes: number,
  baseIntervalMs: number,
): Set<number> {
  const totalBytes = entries.reduce((sum, e) => sum + e.sizeBytes, 0);
  if (totalBytes <= targetBytes) return new Set();
  const snapshots = entries.filter((e) => e.kind === 'snapshot');
  for (
    let intervalMs = baseIntervalMs;
    intervalMs <= MAX_THIN_INTERVAL_MS;
    intervalMs *= 2
  ) {
    const drop = dropWithin(snapshots, intervalMs);
    if (totalBytes - bytesOf(snapshots, drop) <= targetBytes) return drop;
  }
  return new Set(snapshots.slice(0, -1).map((e) => e.seq));
}

/** Keeps the first snapshot of each interval and the newest one. */
function dropWithin(
  snapshots: readonly ThinCandidate[],
  intervalMs: number,
): Set<number> {
  const drop = new Set<number>();
  let lastBucket: number | null = null;
  snapshots.forEach((entry, i) => {
    const bucket = Math.floor(entry.atMs / intervalMs);
    const isNewest = i === snapshots.length - 1;
    if (bucket === lastBucket && !isNewest) drop.add(entry.seq);
    lastBucket = bucket;
  });
  return drop;
}

function bytesOf(entries: readonly ThinCandidate[], seqs: Set<number>) {
  return entries.reduce(
    (sum, e) => (seqs.has(e.seq) ? sum + e.sizeBytes : sum),
    0,
  );
}
