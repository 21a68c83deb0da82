/**
 * What a GPU source (NVML or nvidia-smi) yields before `/proc` enrichment:
 * devices with their processes as the driver reports them. The sampler
 * turns a {@link SourceSample} into a {@link Snapshot}.
 */
import type { Result } from '../../../shared/src/result.ts';
import type {
  GpuProcessType,
  GpuSnapshot,
  SampleProblem,
  SampleSource,
} from '../../../shared/src/snapshot.ts';

/** A process as the driver lists it on one GPU. */
export interface RawProcess {
  pid: number;
  type: GpuProcessType;
  /** VRAM used on this GPU; `null` when the driver cannot tell. */
  usedBytes: number | null;
  /** Name as the driver gave it (may be a path or truncated). */
  name: string | null;
}

/** A GPU as the driver reports it. */
export interface RawGpu extends Omit<GpuSnapshot, 'processes'> {
  processes: RawProcess[];
}

/** One reading of every GPU a source can see. */
export interface SourceSample {
  source: SampleSource;
  driverVersion: string | null;
  gpus: RawGpu[];
  /** Per-GPU and per-field problems; the other GPUs are still reported. */
  problems: SampleProblem[];
}

/** Why a whole source could not be read this time. */
export interface SourceFailure {
  /** Stable kind, e.g. `driver_not_loaded`, `timeout`, `library_missing`. */
  kind: string;
  /** One line that says what happened and what to do. */
  message: string;
  /** True when trying again later may work (driver loading, timeout). */
  retryable: boolean;
}

/** A source of GPU readings. */
export interface GpuSource {
  readonly kind: SampleSource;
  /** Reads every GPU once; a failure is a value, never a throw. */
  sample(): Promise<Result<SourceSample, SourceFailure>>;
  /** Releases what the source holds (NVML handle, running child). */
  close(): Promise<void>;
}

/**
 * Merges the compute and graphics lists of one GPU into one row per pid:
 * a pid on both lists becomes `compute+graphics`, and its memory is counted
 * once (the driver reports the same allocation on both lists).
 */
export function mergeProcessLists(
  compute: readonly RawProcess[],
  graphics: readonly RawProcess[],
): RawProcess[] {
  const byPid = new Map<number, RawProcess>();
  for (const entry of [...compute, ...graphics]) {
    const seen = byPid.get(entry.pid);
    if (!seen) {
      byPid.set(entry.pid, { ...entry });
      continue;
    }
    if (seen.type !== entry.type) seen.type = 'compute+graphics';
    seen.usedBytes = maxKnown(seen.usedBytes, entry.usedBytes);
    seen.name ??= entry.name;
  }
  return [...byPid.values()];
}

function maxKnown(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
