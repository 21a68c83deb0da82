/**
 * A probe's outcome as an SLI event: one event per probe, `total` 1. A
 * probe that could not connect counts as failed only while Ollama should
 * be up (see expect-up.ts); a timeout or an HTTP error always counts.
 */
import {
  LATENCY_BOUNDS_MS,
  latencyBucket,
} from '../../../shared/src/messages.ts';
import type { SliEvent } from '../../../shared/src/messages.ts';
import type { OllamaFailure } from './client.ts';

/** True when the failure means nothing answered (no server to judge). */
export function isConnectFailure(failure: OllamaFailure): boolean {
  return failure.kind === 'refused' || failure.kind === 'network';
}

/** Text that shows a failed answer was a model load running out of memory. */
export function isLoadFailureText(text: string): boolean {
  return /out of memory|unable to allocate|cudaMalloc failed|runner process has terminated/i.test(
    text,
  );
}

/**
 * The SLI event of one probe: failed when `failed`, else counted in the
 * latency bucket of `latencyMs`.
 */
export function probeSliEvent(probe: {
  model: string | null;
  startedAtMs: number;
  latencyMs: number;
  failed: boolean;
}): SliEvent {
  const latencyCounts = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  if (!probe.failed) latencyCounts[latencyBucket(probe.latencyMs)] = 1;
  return {
    source: 'probe',
    workload: 'ollama',
    model: probe.model,
    intervalStartMs: probe.startedAtMs,
    intervalEndMs: probe.startedAtMs + Math.round(probe.latencyMs),
    total: 1,
    failed: probe.failed ? 1 : 0,
    latencyCounts,
  };
}
