/**
 * The synthetic latency probe: a one-token generate call, sent only while
 * the watched model is resident, never with `keep_alive` or runner options
 * (either would change residency or force a reload; research/ollama.md
 * §1.6–1.7). Its latency is the client's wall time, what a user feels.
 */
import type { Clock } from '../../../shared/src/clock.ts';
import { findRunningModel } from './api.ts';
import type { GenerateResult } from './api.ts';
import type { OllamaClient, OllamaFailure } from './client.ts';
import type { ProbeConfig } from './ollama-config.ts';

/** What one probe attempt came to. */
export type ProbeOutcome =
  | {
      kind: 'ok';
      model: string;
      startedAtMs: number;
      /** Client wall time of the call, ms. */
      latencyMs: number;
      result: GenerateResult;
    }
  | {
      kind: 'failed';
      model: string | null;
      startedAtMs: number;
      latencyMs: number;
      failure: OllamaFailure;
    }
  | {
      kind: 'skipped';
      reason: 'not_resident';
      model: string | null;
    };

/** The request body of a probe for `model`. */
export function buildProbeRequest(
  model: string,
  probe: ProbeConfig,
): Record<string, unknown> {
  const request: Record<string, unknown> = {
    model,
    prompt: probe.prompt,
    options: { ...probe.options },
  };
  if (probe.think !== null) request.think = probe.think;
  return request;
}

/**
 * Runs one probe: asks `/api/ps` first and sends nothing unless the model
 * is loaded (a probe must never be what loads 20 GB). A failed `/api/ps`
 * is a failed probe.
 */
export async function runProbe(
  options: { model: string | null; probe: ProbeConfig },
  deps: { client: OllamaClient; clock: Clock },
): Promise<ProbeOutcome> {
  const { client, clock } = deps;
  const startedAtMs = clock.nowMs();
  const startMono = clock.monotonicMs();
  const elapsed = (): number => clock.monotonicMs() - startMono;

  const ps = await client.ps();
  if (!ps.ok) {
    const { model } = options;
    return {
      kind: 'failed',
      model,
      startedAtMs,
      latencyMs: elapsed(),
      failure: ps.error,
    };
  }
  const running = findRunningModel(ps.value, options.model);
  if (running === null) {
    return { kind: 'skipped', reason: 'not_resident', model: options.model };
  }

  const sentMono = clock.monotonicMs();
  const request = buildProbeRequest(running.name, options.probe);
  const answer = await client.generate(request, options.probe.timeoutMs);
  const latencyMs = clock.monotonicMs() - sentMono;
  const model = running.name;
  return answer.ok
    ? { kind: 'ok', model, startedAtMs, latencyMs, result: answer.value }
    : { kind: 'failed', model, startedAtMs, latencyMs, failure: answer.error };
}
