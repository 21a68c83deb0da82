/**
 * Persists each SLO × node bucket series as one JSON file, so a collector
 * restart keeps its windows (DESIGN §4). Files live under
 * `<dataDir>/slo-buckets/<slo>/<node>.json`; a file that cannot be read
 * back is set aside under a `.unreadable-<ms>` name, never overwritten.
 */
import path from 'node:path';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { FiringRule } from '../slo/alert-state.ts';
import { BucketSeries } from '../slo/bucket-series.ts';
import type { SeriesData } from '../slo/bucket-series.ts';
import type { SloDefinition } from '../slo/slo-config.ts';

/** Format version of a series file. */
export const SERIES_FILE_VERSION = 1;

/** One SLO × node as stored. */
export interface StoredSeries {
  version: number;
  slo: string;
  node: string;
  bucketWidthMs: number;
  /** When the node last sent anything, ms since epoch; null never. */
  lastSeenMs: number | null;
  /** The verdict in force, kept so a restart does not drop it. */
  lastFiring: FiringRule | null;
  series: SeriesData | null;
}

/** A series read back from disk. */
export interface LoadedSeries {
  node: string;
  lastSeenMs: number | null;
  lastFiring: FiringRule | null;
  series: BucketSeries | null;
}

/** The file of one SLO × node. */
export function seriesFile(dataDir: string, slo: string, node: string) {
  return path.join(
    dataDir,
    'slo-buckets',
    slo,
    `${encodeURIComponent(node)}.json`,
  );
}

/** Writes one series atomically. */
export async function saveSeries(
  fs: Fs,
  dataDir: string,
  stored: StoredSeries,
): Promise<void> {
  const file = seriesFile(dataDir, stored.slo, stored.node);
  await fs.writeFileAtomic(file, `${JSON.stringify(stored)}\n`);
}

/** Reads every stored series of `slo`; unreadable files are set aside. */
export async function loadSeries(
  deps: { fs: Fs; logger: Logger; nowMs: number },
  dataDir: string,
  slo: SloDefinition,
): Promise<LoadedSeries[]> {
  const dir = path.join(dataDir, 'slo-buckets', slo.name);
  if (!(await deps.fs.exists(dir))) return [];
  const names = (await deps.fs.readdir(dir)).filter((n) => n.endsWith('.json'));
  const loaded: LoadedSeries[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const text = await deps.fs.readText(file);
    const result = decodeSeries(text, slo);
    if (typeof result === 'string') {
      await setAside(deps, file, text, result);
    } else {
      loaded.push(result);
    }
  }
  return loaded;
}

async function setAside(
  deps: { fs: Fs; logger: Logger; nowMs: number },
  file: string,
  text: string,
  reason: string,
): Promise<void> {
  const aside = `${file}.unreadable-${deps.nowMs}`;
  await deps.fs.writeFileAtomic(aside, text);
  await deps.fs.rm(file);
  deps.logger.warn(
    { file, aside, reason },
    'slo series file set aside, its windows start cold',
  );
}

/** Parses a stored series; a string says why it cannot be used. */
export function decodeSeries(
  text: string,
  slo: SloDefinition,
): LoadedSeries | string {
  let data: StoredSeries;
  try {
    data = JSON.parse(text) as StoredSeries;
  } catch {
    return 'not valid JSON';
  }
  if (data?.version !== SERIES_FILE_VERSION) return 'unknown version';
  if (typeof data.node !== 'string') return 'node missing';
  if (data.bucketWidthMs !== slo.bucketWidthMs) {
    return `bucket width changed from ${data.bucketWidthMs} ms to ${slo.bucketWidthMs} ms`;
  }
  if (data.series !== null && !isSeriesData(data.series)) {
    return 'buckets malformed';
  }
  const capacity = slo.periodMs / slo.bucketWidthMs + 1;
  return {
    node: data.node,
    lastSeenMs: typeof data.lastSeenMs === 'number' ? data.lastSeenMs : null,
    lastFiring: data.lastFiring ?? null,
    series: data.series ? BucketSeries.fromJSON(data.series, capacity) : null,
  };
}

function isSeriesData(value: SeriesData): boolean {
  const isCount = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  if (!Number.isSafeInteger(value.firstIndex)) return false;
  if (!Number.isSafeInteger(value.headIndex)) return false;
  if (value.firstIndex > value.headIndex) return false;
  if (!Array.isArray(value.buckets)) return false;
  let previous = value.firstIndex - 1;
  for (const bucket of value.buckets) {
    if (!Array.isArray(bucket) || bucket.length !== 3) return false;
    const [index, good, total] = bucket;
    if (!Number.isSafeInteger(index) || index <= previous) return false;
    if (index > value.headIndex) return false;
    if (!isCount(good) || !isCount(total) || good > total) return false;
    previous = index;
  }
  return true;
}
