/**
 * Values the guard's planner, enforcer and runtime pass between them. All
 * memory is bytes, all times milliseconds since the Unix epoch.
 */
import type { GpuProcess } from '../../../shared/src/snapshot.ts';
import type { Reservation } from './guard-config.ts';

/** Who a process is (pid + start ticks + boot id): the sampler's type. */
export type { ProcessIdentity } from '../gpu/proc-identity.ts';

/** One ancestor of a process, as `/proc` shows it. */
export interface AncestorInfo {
  pid: number;
  name: string | null;
  exe: string | null;
  unit?: string | null;
  cgroup?: string | null;
}

/** What the workload monitor knows about the reserved model. */
export interface WorkloadState {
  /** The reserved model is loaded; `null` when unknown. */
  modelResident: boolean | null;
}

/** Guard state of one GPU. */
export type GuardState = 'ok' | 'soft_breach' | 'hard_breach' | 'recovering';

/** Why a process can never be, or is not now, a victim. */
export type ExclusionReason =
  | 'invalid_pid'
  | 'protected_workload'
  | 'self'
  | 'self_parent'
  | 'kernel_thread'
  | 'display_server'
  | 'nvidia_service'
  | 'container_runtime'
  | 'oom_protected'
  | 'graphics_only'
  | 'memory_unknown'
  | 'identity_unreadable'
  | 'exited'
  | 'not_eligible'
  | 'container'
  | 'too_small'
  | 'breaker_open';

/** Reasons no configuration can override (DESIGN §4). */
export const NEVER_KILL_REASONS: ReadonlySet<ExclusionReason> = new Set([
  'invalid_pid',
  'protected_workload',
  'self',
  'self_parent',
  'kernel_thread',
  'display_server',
  'nvidia_service',
  'container_runtime',
  'oom_protected',
]);

/** A process the guard may choose. */
export interface Candidate {
  process: GpuProcess;
  /** VRAM it holds on the breached GPU. */
  usedBytes: number;
  startTimeTicks: number;
  /** It started holding VRAM after the GPU was last compliant. */
  culprit: boolean;
  /** Unit (or cgroup) plus a hash of its command: what a respawn repeats. */
  respawnKey: string;
}

/** A process that is not a candidate, and why. */
export interface Exclusion {
  process: GpuProcess;
  reason: ExclusionReason;
}

/**
 * The reservation arithmetic of one GPU (research/enforcement.md §8.3):
 * V = F + O − M, D = R − V, need = D + min reclaim.
 */
export interface ReservationMath {
  totalBytes: number | null;
  usedBytes: number | null;
  /** F: free memory as the driver reports it. */
  freeBytes: number;
  /** O: what the protected workload holds for the reserved model. */
  protectedBytes: number;
  /** A: known memory of every other listed process. */
  otherBytes: number;
  /** X: used memory nobody is listed for (driver, other namespaces). */
  unattributedBytes: number | null;
  /** Processes listed with memory the driver cannot tell (WDDM `N/A`). */
  unknownProcesses: number;
  /** M. */
  marginBytes: number;
  /** V: what the reserved model could hold now. */
  availableBytes: number;
  /** R. */
  reservedBytes: number;
  /** D: positive when the reservation is breached. */
  deficitBytes: number;
  /** D plus the minimum reclaim: what a plan aims to free. */
  needBytes: number;
}

/** The victims chosen for one GPU, or why there are none. */
export interface VictimPlan {
  victims: Candidate[];
  /** Bytes the plan aims to free: `need`, or `D` when only that fits. */
  goalBytes: number;
  /** False when the eligible processes cannot cover D. */
  feasible: boolean;
}

/** What the guard concludes for one GPU in one evaluation. */
export type Verdict =
  'none' | 'hold' | 'warn' | 'kill' | 'infeasible' | 'breaker';

/** The guard's view of one reserved GPU after an evaluation. */
export interface GpuDecision {
  atMs: number;
  gpuUuid: string;
  gpuIndex: number;
  reservation: Reservation;
  /** `null` when the snapshot cannot tell free memory. */
  math: ReservationMath | null;
  state: GuardState;
  previousState: GuardState;
  harmed: boolean;
  harmEvidence: string[];
  breachSinceMs: number | null;
  candidates: Candidate[];
  excluded: Exclusion[];
  plan: VictimPlan;
  verdict: Verdict;
  /** Why a breach is not acted on yet (`grace`, `cooldown`, …). */
  holdReason: string | null;
  /** True when people should hear about this verdict now (not a repeat). */
  notify: boolean;
  /** The reserved model stayed partly on the CPU after a restore. */
  offloadPersists: boolean;
}
