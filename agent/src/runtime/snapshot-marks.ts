/**
 * Small pure steps of the agent loop: marking the protected workload's
 * processes in a snapshot, and the sampler's health events.
 */
import type { HealthEvent } from '../../../shared/src/messages.ts';
import type { SampleSource, Snapshot } from '../../../shared/src/snapshot.ts';

/**
 * Copies `snapshot` with `protected: true` on the processes the guard
 * last classified as the protected workload, per GPU UUID. Processes of
 * GPUs without a reservation are left unmarked.
 */
export function markProtected(
  snapshot: Snapshot,
  protectedPids: ReadonlyMap<string, ReadonlySet<number>>,
): Snapshot {
  if (protectedPids.size === 0) return snapshot;
  return {
    ...snapshot,
    gpus: snapshot.gpus.map((gpu) => {
      const pids = protectedPids.get(gpu.uuid);
      if (!pids) return gpu;
      return {
        ...gpu,
        processes: gpu.processes.map((p) =>
          pids.has(p.pid) ? { ...p, protected: true } : p,
        ),
      };
    }),
  };
}

/** The health event for sampling going down (`error`) or coming back. */
export function samplerHealthEvent(
  atMs: number,
  error: string | null,
  source: SampleSource | null,
): HealthEvent {
  return {
    atMs,
    component: 'sampler',
    status: error ? 'down' : 'ok',
    kind: error ? 'sampling_failed' : 'sampling_ok',
    message: error ?? `sampling through ${source ?? 'unknown source'}`,
    ollama: null,
    details: { source },
  };
}
