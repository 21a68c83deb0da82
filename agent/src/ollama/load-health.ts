/**
 * Gathers one model load's lines (free VRAM seen, the plan, buffers on the
 * CPU, the layer split) and says what the load came to as health events:
 * `model_loaded` with the split, or `load_failed`. Pure: time comes in.
 */
import type { HealthEvent } from '../../../shared/src/messages.ts';
import { formatBytes } from '../../../shared/src/units.ts';
import type { LoadEvidence } from './load-lines.ts';

/** What the current (or last) load said so far. */
export interface LoadSession {
  startedAtMs: number | null;
  freeBytes: number | null;
  requiredFullBytes: number | null;
  cpuModelBytes: number;
  lastFailureAtMs: number | null;
}

/** No load seen yet. */
export const EMPTY_LOAD_SESSION: LoadSession = {
  startedAtMs: null,
  freeBytes: null,
  requiredFullBytes: null,
  cpuModelBytes: 0,
  lastFailureAtMs: null,
};

// Several lines report one failure (CUDA error, then runner terminated).
const FAILURE_QUIET_MS = 10_000;

/** Folds one load fact in; a health event when the load's outcome is known. */
export function observeLoad(
  session: LoadSession,
  evidence: LoadEvidence,
  atMs: number,
): { session: LoadSession; event: Omit<HealthEvent, 'ollama'> | null } {
  switch (evidence.kind) {
    case 'load_start':
      return {
        session: {
          ...EMPTY_LOAD_SESSION,
          startedAtMs: atMs,
          lastFailureAtMs: session.lastFailureAtMs,
        },
        event: null,
      };
    case 'gpu_free':
      return {
        session: {
          ...session,
          freeBytes: evidence.availableBytes ?? evidence.freeBytes,
        },
        event: null,
      };
    case 'plan':
      return {
        session: {
          ...session,
          freeBytes: evidence.availableBytes ?? session.freeBytes,
          requiredFullBytes: evidence.requiredFullBytes,
        },
        event: null,
      };
    case 'buffer':
      if (!evidence.onCpu || evidence.what !== 'model')
        return { session, event: null };
      return {
        session: {
          ...session,
          cpuModelBytes: session.cpuModelBytes + evidence.bytes,
        },
        event: null,
      };
    case 'layers':
      return { session, event: layersEvent(session, evidence, atMs) };
    case 'load_failed':
      return failed(session, evidence.reason, atMs);
    default:
      return { session, event: null };
  }
}

function layersEvent(
  session: LoadSession,
  layers: { onGpu: number; total: number },
  atMs: number,
): Omit<HealthEvent, 'ollama'> {
  const partial = layers.onGpu < layers.total;
  const free =
    session.freeBytes === null
      ? ''
      : ` with ${formatBytes(session.freeBytes)} of VRAM available`;
  return {
    atMs,
    component: 'ollama',
    status: partial ? 'degraded' : 'ok',
    kind: 'model_loaded',
    message: `a model load put ${layers.onGpu} of ${layers.total} layers on the GPU${free}`,
    details: { ...layers, partial, ...session },
  };
}

function failed(
  session: LoadSession,
  reason: string,
  atMs: number,
): { session: LoadSession; event: Omit<HealthEvent, 'ollama'> | null } {
  const quiet =
    session.lastFailureAtMs !== null &&
    atMs - session.lastFailureAtMs < FAILURE_QUIET_MS;
  const next = { ...session, lastFailureAtMs: atMs };
  if (quiet) return { session: next, event: null };
  return {
    session: next,
    event: {
      atMs,
      component: 'ollama',
      status: 'degraded',
      kind: 'load_failed',
      message: `a model load failed: ${reason}`,
      details: {
        reason,
        freeBytes: session.freeBytes,
        requiredFullBytes: session.requiredFullBytes,
      },
    },
  };
}
