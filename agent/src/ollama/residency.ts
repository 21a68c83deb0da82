/**
 * Residency of the watched model, from `/api/ps`: loaded or not, fully on
 * the GPU or partly in system RAM, and when its idle timer ends. Turns each
 * poll into health events on changes only. Pure: time comes in.
 */
import type {
  HealthEvent,
  OllamaStatus,
} from '../../../shared/src/messages.ts';
import { formatBytes } from '../../../shared/src/units.ts';
import { findRunningModel } from './api.ts';
import type { RunningModel } from './api.ts';
import type { OllamaFailure } from './client.ts';

/** Where the watched model stands. */
export type ResidencyPhase =
  'unknown' | 'unreachable' | 'not_resident' | 'partly_on_cpu' | 'resident';

/** What the residency tracker remembers between polls. */
export interface ResidencyState {
  phase: ResidencyPhase;
  version: string | null;
  /** The watched model as last listed; `null` when not loaded. */
  running: RunningModel | null;
  /** True while `expires_at` is within the warning time. */
  reloadDue: boolean;
  /** The last failure while unreachable. */
  failure: OllamaFailure | null;
}

/** One poll's result. */
export type ResidencyObservation =
  | { kind: 'unreachable'; failure: OllamaFailure }
  | { kind: 'ps'; models: RunningModel[]; version: string | null };

/** Options of {@link observeResidency}. */
export interface ResidencyOptions {
  /** Ollama's base URL, for messages. */
  url: string;
  /** The watched model; `null` = whichever is loaded first. */
  model: string | null;
  /** Warn when the idle timer ends within this many ms. */
  reloadWarningMs: number;
}

/** The state before the first poll. */
export const INITIAL_RESIDENCY: ResidencyState = {
  phase: 'unknown',
  version: null,
  running: null,
  reloadDue: false,
  failure: null,
};

/** Folds one poll into the state; health events for what changed. */
export function observeResidency(
  prev: ResidencyState,
  observation: ResidencyObservation,
  options: ResidencyOptions,
  nowMs: number,
): { state: ResidencyState; events: HealthEvent[] } {
  const state = nextState(prev, observation, options, nowMs);
  const events: HealthEvent[] = [];
  const changed =
    state.phase !== prev.phase ||
    state.running?.name !== prev.running?.name ||
    (state.phase === 'partly_on_cpu' &&
      state.running?.sizeVramBytes !== prev.running?.sizeVramBytes);
  if (changed) events.push(phaseEvent(state, options, nowMs));
  if (state.reloadDue && !prev.reloadDue) {
    events.push(reloadEvent(state, options, nowMs));
  }
  return { state, events };
}

function nextState(
  prev: ResidencyState,
  observation: ResidencyObservation,
  options: ResidencyOptions,
  nowMs: number,
): ResidencyState {
  if (observation.kind === 'unreachable') {
    const { failure } = observation;
    return { ...prev, phase: 'unreachable', reloadDue: false, failure };
  }
  const running = findRunningModel(observation.models, options.model);
  const version = observation.version ?? prev.version;
  const reloadDue =
    running !== null &&
    !running.pinned &&
    running.expiresAtMs !== null &&
    running.expiresAtMs - nowMs <= options.reloadWarningMs;
  const phase: ResidencyPhase =
    running === null
      ? 'not_resident'
      : running.sizeVramBytes < running.sizeBytes
        ? 'partly_on_cpu'
        : 'resident';
  return { phase, version, running, reloadDue, failure: null };
}

/** The {@link OllamaStatus} a state shows; `lastLatencyMs` from probes. */
export function residencyStatus(
  state: ResidencyState,
  model: string | null,
  lastLatencyMs: number | null,
): OllamaStatus {
  const running = state.running;
  const known = state.phase !== 'unknown' && state.phase !== 'unreachable';
  return {
    reachable: known,
    version: state.version,
    model: running?.name ?? model,
    resident: known ? running !== null : null,
    sizeBytes: known ? (running?.sizeBytes ?? null) : null,
    sizeVramBytes: known ? (running?.sizeVramBytes ?? null) : null,
    offloadedBytes:
      known && running ? running.sizeBytes - running.sizeVramBytes : null,
    expiresAtMs: known ? (running?.expiresAtMs ?? null) : null,
    lastLatencyMs,
  };
}

type EventText = Pick<HealthEvent, 'status' | 'kind' | 'message'>;

function phaseEvent(
  state: ResidencyState,
  options: ResidencyOptions,
  nowMs: number,
): HealthEvent {
  return event(state, options, nowMs, phaseText(state, options));
}

function phaseText(
  state: ResidencyState,
  options: ResidencyOptions,
): EventText {
  const name = state.running?.name ?? options.model ?? 'no model';
  const onGpu = formatBytes(state.running?.sizeVramBytes ?? null);
  const size = formatBytes(state.running?.sizeBytes ?? null);
  switch (state.phase) {
    case 'unreachable': {
      const why = state.failure?.message ?? 'no answer';
      const message = `Ollama at ${options.url} is unreachable: ${why}`;
      return { status: 'down', kind: 'ollama_unreachable', message };
    }
    case 'not_resident': {
      const message =
        options.model === null
          ? 'no model is loaded in Ollama'
          : `${name} is not loaded; the next request has to load it`;
      return { status: 'degraded', kind: 'model_not_resident', message };
    }
    case 'partly_on_cpu': {
      const message = `${name} partly on CPU (${onGpu} of ${size} on GPU)`;
      return { status: 'degraded', kind: 'model_partly_on_cpu', message };
    }
    default: {
      const message = `${name} is fully on the GPU (${size})`;
      return { status: 'ok', kind: 'model_resident', message };
    }
  }
}

function reloadEvent(
  state: ResidencyState,
  options: ResidencyOptions,
  nowMs: number,
): HealthEvent {
  const at = new Date(state.running?.expiresAtMs ?? nowMs).toISOString();
  const name = state.running?.name ?? 'the model';
  const message = `${name} reload due at ${at}: its idle timer ends and the next request loads it again`;
  return event(state, options, nowMs, {
    status: 'degraded',
    kind: 'reload_due',
    message,
  });
}

function event(
  state: ResidencyState,
  options: ResidencyOptions,
  nowMs: number,
  what: EventText,
): HealthEvent {
  const r = state.running;
  return {
    atMs: nowMs,
    component: 'ollama',
    ...what,
    ollama: residencyStatus(state, options.model, null),
    details: {
      url: options.url,
      model: r?.name ?? options.model,
      sizeBytes: r?.sizeBytes ?? null,
      sizeVramBytes: r?.sizeVramBytes ?? null,
      expiresAt: r?.expiresAtMs ? new Date(r.expiresAtMs).toISOString() : null,
      pinned: r?.pinned ?? null,
      failure: state.failure,
    },
  };
}
