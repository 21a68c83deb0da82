/**
 * The snapshot model (DESIGN §3.2): what one sample of a host's GPUs says.
 * Every quantity is bytes, percent, °C or watts; a value the GPU cannot give
 * is `null`, never 0, and why goes in `problems` once.
 */

/** How a process uses a GPU; both lists merged into one row per pid. */
export type GpuProcessType = 'compute' | 'graphics' | 'compute+graphics';

/** Where a snapshot came from. */
export type SampleSource = 'nvml' | 'nvidia-smi';

/** One process on one GPU, keyed by (GPU UUID, pid). */
export interface GpuProcess {
  pid: number;
  /** Short name (`/proc/<pid>/comm`, else what the driver reported). */
  name: string | null;
  type: GpuProcessType;
  /** VRAM held on this GPU; `null` when the driver cannot tell (WDDM, MIG). */
  usedBytes: number | null;
  /** Owning user name, `null` when unresolved. */
  user: string | null;
  /** Full command line, `null` when unresolved. */
  command: string | null;
  /** Process start time, ISO 8601 UTC; `null` when unresolved. */
  startedAt: string | null;
  /** Numeric uid, `null` when unresolved. */
  uid?: number | null;
  /** Parent pid, `null` when unresolved. */
  ppid?: number | null;
  /** systemd unit owning the process (`ollama.service`), if any. */
  unit?: string | null;
  /** cgroup v2 path (`/system.slice/ollama.service`), if known. */
  cgroup?: string | null;
  /** Container id when the process runs in a container. */
  container?: string | null;
  /** `/proc/<pid>/stat` state letter (`R`, `S`, `Z`, …). */
  state?: string | null;
  /** Start time in clock ticks since boot: with pid and boot id, identity. */
  startTimeTicks?: number | null;
  /** Resolved `/proc/<pid>/exe` target. */
  exe?: string | null;
  /** `/proc/<pid>/oom_score_adj`. */
  oomScoreAdj?: number | null;
  /** False when `/proc` cannot see the pid (another PID namespace). */
  resolved?: boolean;
  /**
   * True when the guard counts this process as the protected workload's
   * (set by the agent before sending; absent when no guard policy runs).
   */
  protected?: boolean;
}

/** Memory of one GPU, in bytes; each `null` when unknown. */
export interface GpuMemory {
  totalBytes: number | null;
  usedBytes: number | null;
  freeBytes: number | null;
  /** Memory the driver keeps for itself (NVML v2 `reserved`). */
  reservedBytes: number | null;
}

/** One GPU (or MIG device) in a snapshot. */
export interface GpuSnapshot {
  index: number;
  uuid: string;
  name: string | null;
  pciBusId: string | null;
  memory: GpuMemory;
  utilizationPercent: { gpu: number | null; memory: number | null };
  temperatureC: number | null;
  powerWatts: number | null;
  migEnabled: boolean | null;
  processes: GpuProcess[];
}

/** A problem met while sampling; `gpuUuid` when it concerns one GPU. */
export interface SampleProblem {
  gpuUuid?: string;
  /** Stable kind, e.g. `gpu_lost`, `field_unsupported`, `driver_not_loaded`. */
  kind: string;
  /** One line for people, with a hint where one helps. */
  message: string;
}

/** One sample of a host's GPUs. */
export interface Snapshot {
  node: string;
  /** When the sample was taken, ISO 8601 UTC. */
  takenAt: string;
  source: SampleSource;
  driverVersion: string | null;
  gpus: GpuSnapshot[];
  problems: SampleProblem[];
}

/**
 * A GPU known only by index and UUID: every reading `null` (unknown, never
 * 0) and no processes yet. Sources and decoders fill in what they learn.
 */
export function unknownGpu(index: number, uuid: string): GpuSnapshot {
  return {
    index,
    uuid,
    name: null,
    pciBusId: null,
    memory: {
      totalBytes: null,
      usedBytes: null,
      freeBytes: null,
      reservedBytes: null,
    },
    utilizationPercent: { gpu: null, memory: null },
    temperatureC: null,
    powerWatts: null,
    migEnabled: null,
    processes: [],
  };
}
