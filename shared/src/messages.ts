/**
 * What an agent tells the collector, as TypeScript values. The wire form is
 * `proto/gpuwarden/v1/agent.proto`; `--record` files hold these as JSON
 * lines. Times are integer milliseconds since the Unix epoch (UTC).
 */
import type { Snapshot } from './snapshot.ts';

/**
 * Upper bounds, in milliseconds, of the latency buckets an SLI event counts
 * successful requests in. An SLO's latency threshold must be one of them,
 * so "good" is counted exactly, never interpolated.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  50, 100, 250, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000, 60000,
];

/** Facts about the agent and its host, sent first on every stream. */
export interface Hello {
  node: string;
  agentVersion: string;
  /** `/proc/sys/kernel/random/boot_id`; null when unknown. */
  bootId: string | null;
  startedAtMs: number;
  host: {
    os: string | null;
    kernel: string | null;
    cpu: string | null;
    memoryBytes: number | null;
  };
  gpus: {
    index: number;
    uuid: string;
    name: string | null;
    totalBytes: number | null;
  }[];
  policy: PolicySummary;
}

/** The guard policy in force, summarised. */
export interface PolicySummary {
  mode: 'observe' | 'warn' | 'enforce-term' | 'enforce';
  /** Hash of the effective policy, also written in every audit line. */
  policyHash: string;
  reservations: {
    /** GPU UUID, or `index:N` when configured by index. */
    gpu: string;
    reservedBytes: number;
    /** What the reservation protects, e.g. `ollama`. */
    workload: string;
  }[];
}

/**
 * Good/total counts of the protected workload's requests over an interval.
 * `latencyCounts[i]` counts successful requests whose latency was at most
 * `LATENCY_BOUNDS_MS[i]` and above the bound before it; the last slot
 * (index `LATENCY_BOUNDS_MS.length`) counts those above every bound.
 */
export interface SliEvent {
  /** What was measured: `probe` (synthetic) or `requests` (the log). */
  source: 'probe' | 'requests';
  /** The workload, e.g. `ollama`. */
  workload: string;
  model: string | null;
  intervalStartMs: number;
  intervalEndMs: number;
  /** All requests in the interval, failed ones included. */
  total: number;
  /** Requests that failed (5xx, 499, refused, timed out). */
  failed: number;
  latencyCounts: number[];
}

/** Guard event kinds, in the order a breach usually unfolds. */
export type GuardEventKind =
  | 'breach'
  | 'warning'
  | 'plan'
  | 'signal'
  | 'kill'
  | 'abort'
  | 'freed'
  | 'infeasible'
  | 'breaker'
  | 'recovered'
  | 'offload_persists'
  | 'reload';

/** A process as the guard names it in events. */
export interface ProcessRef {
  pid: number;
  name: string | null;
  user: string | null;
  unit: string | null;
  command: string | null;
  usedBytes: number | null;
}

/** One guard decision or action, also written as an audit line. */
export interface GuardEvent {
  atMs: number;
  kind: GuardEventKind;
  gpuUuid: string;
  /** Guard state after the event: `ok`, `soft_breach`, `hard_breach`, `recovering`. */
  state: string;
  mode: PolicySummary['mode'];
  /** One line for people. */
  message: string;
  reservedBytes: number | null;
  protectedBytes: number | null;
  freeBytes: number | null;
  deficitBytes: number | null;
  /** The process acted on or warned about, if any. */
  process: ProcessRef | null;
  /** VRAM verified freed after a kill. */
  freedBytes: number | null;
  /** Signal sent (`SIGTERM`, `SIGKILL`) for `signal` and `kill`. */
  signal: string | null;
  policyHash: string;
  /** Extra structured facts (exclusions, harm signals, candidates). */
  details: Record<string, unknown>;
}

/** The protected workload's state as the agent last saw it. */
export interface OllamaStatus {
  reachable: boolean;
  version: string | null;
  /** The watched model, e.g. `qwen2.5:32b`. */
  model: string | null;
  resident: boolean | null;
  sizeBytes: number | null;
  sizeVramBytes: number | null;
  /** Bytes of the model held in system RAM (partly offloaded when > 0). */
  offloadedBytes: number | null;
  expiresAtMs: number | null;
  lastLatencyMs: number | null;
}

/** A health change: a source fell back, a model left the GPU, … */
export interface HealthEvent {
  atMs: number;
  component: 'sampler' | 'ollama' | 'guard' | 'link';
  status: 'ok' | 'degraded' | 'down';
  /** Stable kind, e.g. `model_not_resident`, `model_partly_on_cpu`. */
  kind: string;
  message: string;
  ollama: OllamaStatus | null;
  details: Record<string, unknown>;
}

/** The payload of one agent message. */
export type AgentPayload =
  | { type: 'hello'; hello: Hello }
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'sli'; sli: SliEvent }
  | { type: 'guard'; guard: GuardEvent }
  | { type: 'health'; health: HealthEvent };

/** One message up the stream; `seq` grows by one per message and node. */
export interface AgentMessage {
  node: string;
  seq: number;
  sentAtMs: number;
  payload: AgentPayload;
}

/** Counts successful requests with latency ≤ `thresholdMs` in an event. */
export function countGood(event: SliEvent, thresholdMs: number): number {
  let good = 0;
  LATENCY_BOUNDS_MS.forEach((boundMs, i) => {
    if (boundMs <= thresholdMs) good += event.latencyCounts[i] ?? 0;
  });
  return good;
}

/** The bucket index a successful request of `latencyMs` is counted in. */
export function latencyBucket(latencyMs: number): number {
  const index = LATENCY_BOUNDS_MS.findIndex((boundMs) => latencyMs <= boundMs);
  return index === -1 ? LATENCY_BOUNDS_MS.length : index;
}
