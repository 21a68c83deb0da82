/**
 * Runs the probe on its interval and turns each outcome into an SLI event,
 * harm evidence and, for a load that ran out of memory, a health event.
 * While Ollama cannot be reached, a bad event is counted only when it
 * should be up (expect-up.ts).
 */
import type { Clock } from '../../../shared/src/clock.ts';
import type { Exec } from '../../../shared/src/exec.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { HealthEvent, SliEvent } from '../../../shared/src/messages.ts';
import type { OllamaClient, OllamaFailure } from './client.ts';
import { shouldOllamaBeUp } from './expect-up.ts';
import type { HarmTracker } from './harm-tracker.ts';
import type { OllamaConfig } from './ollama-config.ts';
import {
  isConnectFailure,
  isLoadFailureText,
  probeSliEvent,
} from './probe-event.ts';
import { runProbe } from './probe.ts';
import type { ProbeOutcome } from './probe.ts';
import type { RequestLogReader } from './request-log.ts';

/** Collaborators of {@link ProbeRunner}. */
export interface ProbeRunnerDeps {
  clock: Clock;
  logger: Logger;
  exec?: Exec;
  fs?: Fs;
  client: OllamaClient;
  reader: RequestLogReader;
  tracker: HarmTracker;
  emit: { sli(event: SliEvent): void };
  emitHealth(event: Omit<HealthEvent, 'ollama'>): void;
}

/** One probe at a time; outcomes to SLI, harm and health. */
export class ProbeRunner {
  /** Client wall time of the last successful probe, ms. */
  lastLatencyMs: number | null = null;
  private running: Promise<ProbeOutcome | null> | null = null;
  private counts = { probes: 0, probesSkipped: 0 };
  private downLogged = false;

  constructor(
    private readonly config: OllamaConfig,
    private readonly deps: ProbeRunnerDeps,
  ) {}

  /** Probes once unless a probe is still running (then waits for it). */
  tick(): Promise<ProbeOutcome | null> {
    if (!this.config.probe.enabled) return Promise.resolve(null);
    this.running ??= this.probe().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  stats(): { probes: number; probesSkipped: number } {
    return { ...this.counts };
  }

  private async probe(): Promise<ProbeOutcome | null> {
    const { clock, client, reader } = this.deps;
    const sentAtMs = clock.nowMs();
    reader.probeSent(sentAtMs);
    let outcome: ProbeOutcome;
    try {
      outcome = await runProbe(
        { model: this.config.model, probe: this.config.probe },
        { client, clock },
      );
    } catch (error) {
      this.deps.logger.error(
        { err: error },
        'ollama probe failed unexpectedly',
      );
      return null;
    }
    reader.probeDone(sentAtMs, clock.nowMs());

    if (outcome.kind === 'skipped') {
      this.counts.probesSkipped += 1;
      this.deps.logger.debug(
        { reason: outcome.reason },
        'ollama probe skipped',
      );
      return outcome;
    }
    this.counts.probes += 1;
    if (outcome.kind === 'ok') this.succeeded(outcome);
    else await this.failed(outcome.failure, outcome);
    return outcome;
  }

  private succeeded(outcome: Extract<ProbeOutcome, { kind: 'ok' }>): void {
    this.lastLatencyMs = outcome.latencyMs;
    this.downLogged = false;
    this.count({ ...outcome, failed: false });
  }

  private async failed(
    failure: OllamaFailure,
    outcome: Extract<ProbeOutcome, { kind: 'failed' }>,
  ): Promise<void> {
    if (isConnectFailure(failure)) {
      const up = await shouldOllamaBeUp({ unit: this.config.unit }, this.deps);
      if (!this.downLogged) {
        this.deps.logger.warn(
          {
            failure,
            expected: up.expected,
            basis: up.basis,
            detail: up.detail,
          },
          'ollama unreachable at probe time',
        );
        this.downLogged = true;
      }
      if (!up.expected) return;
    }
    if (failure.kind === 'http' && isLoadFailureText(failure.message)) {
      const atMs = this.deps.clock.nowMs();
      this.deps.tracker.recordLoadFailure(atMs, failure.message);
      this.deps.emitHealth({
        atMs,
        component: 'ollama',
        status: 'degraded',
        kind: 'load_failed',
        message: `a model load failed: ${failure.message}`,
        details: { failure, source: 'probe' },
      });
    }
    this.count({ ...outcome, failed: true });
  }

  private count(probe: {
    model: string | null;
    startedAtMs: number;
    latencyMs: number;
    failed: boolean;
  }): void {
    const endMs = probe.startedAtMs + probe.latencyMs;
    this.deps.tracker.recordOutcome(endMs, probe.failed, probe.latencyMs);
    this.deps.emit.sli(probeSliEvent(probe));
  }
}
