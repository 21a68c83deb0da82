/**
 * The Ollama monitor: polls `/api/ps` for residency, probes latency while
 * the model is resident, follows the request log, and hands SLI events,
 * health events and the guard's harm signals to whoever composes it.
 */
import type { HarmSignals } from '../guard/harm.ts';
import type { Clock } from '../../../shared/src/clock.ts';
import type { Exec } from '../../../shared/src/exec.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type {
  HealthEvent,
  OllamaStatus,
  SliEvent,
} from '../../../shared/src/messages.ts';
import { OllamaClient } from './client.ts';
import type { FetchPort } from './client.ts';
import { DEFAULT_HARM_OPTIONS, HarmTracker } from './harm-tracker.ts';
import { EMPTY_LOAD_SESSION, observeLoad } from './load-health.ts';
import type { LoadEvidence } from './load-lines.ts';
import { createFileFollower, createJournalFollower } from './log-follower.ts';
import type { LogFollower } from './log-follower.ts';
import type { RawLogLine } from './log-line.ts';
import type { OllamaConfig } from './ollama-config.ts';
import { ProbeRunner } from './probe-runner.ts';
import type { ProbeOutcome } from './probe.ts';
import { RequestLogReader } from './request-log.ts';
import type { RequestLogStats } from './request-log.ts';
import {
  INITIAL_RESIDENCY,
  observeResidency,
  residencyStatus,
} from './residency.ts';
import type { ResidencyObservation } from './residency.ts';
import { createLocalToUtc } from './zoned-time.ts';

/** Collaborators of {@link createOllamaMonitor}. */
export interface OllamaMonitorDeps {
  clock: Clock;
  logger: Logger;
  /** HTTP; default the global `fetch`. */
  fetch?: FetchPort;
  /** Runs `systemctl` for "should Ollama be up"; without it, skipped. */
  exec?: Exec;
  /** Reads `/proc` for an `ollama serve`; without it, skipped. */
  fs?: Fs;
  /** Replaces the log source of the config (tests, replays). */
  follower?: LogFollower | null;
  /** Zone of Gin's stamps when the config names none; default the host's. */
  hostTimeZone?: string;
  emit: { sli(event: SliEvent): void; health(event: HealthEvent): void };
}

/** What the monitor has counted since start. */
export interface OllamaMonitorStats {
  polls: number;
  pollFailures: number;
  probes: number;
  probesSkipped: number;
  log: RequestLogStats;
}

/** The running monitor. */
export interface OllamaMonitor {
  /** Polls at once, then starts the timers and the log follower. */
  start(): void;
  /** Stops timers and the follower; emits the open SLI intervals. */
  stop(): Promise<void>;
  /** Ollama as last seen. */
  status(): OllamaStatus;
  /** The guard's harm input now. */
  harm(): HarmSignals;
  /** One `/api/ps` (and `/api/version`) poll. */
  pollOnce(): Promise<void>;
  /** One probe; `null` when probing is off. */
  probeOnce(): Promise<ProbeOutcome | null>;
  /** Feeds one log line as if the follower had read it. */
  ingestLine(line: RawLogLine): void;
  stats(): OllamaMonitorStats;
}

const SLI_GRACE_MS = 5000;
const FLUSH_EVERY_MS = 1000;
const VERSION_EVERY_POLLS = 60;

/** Builds the monitor; nothing runs before `start()`. */
export function createOllamaMonitor(
  config: OllamaConfig,
  deps: OllamaMonitorDeps,
): OllamaMonitor {
  return new Monitor(config, deps);
}

class Monitor implements OllamaMonitor {
  private readonly log: Logger;
  private readonly client: OllamaClient;
  private readonly reader: RequestLogReader;
  private readonly tracker: HarmTracker;
  private readonly probes: ProbeRunner;
  private readonly follower: LogFollower | null;
  private residency = INITIAL_RESIDENCY;
  private loadSession = EMPTY_LOAD_SESSION;
  private cancels: (() => void)[] = [];
  private polling = false;
  private counts = { polls: 0, pollFailures: 0 };

  constructor(
    private readonly config: OllamaConfig,
    private readonly deps: OllamaMonitorDeps,
  ) {
    this.log = deps.logger.child({ component: 'ollama' });
    const fetchPort = deps.fetch ?? (globalThis.fetch as unknown as FetchPort);
    const nowMs = (): number => deps.clock.nowMs();
    this.client = new OllamaClient(
      { url: config.url, timeoutMs: config.requestTimeoutMs },
      { fetch: fetchPort, nowMs },
    );
    const zone = config.log.timeZone ?? deps.hostTimeZone ?? hostZone();
    this.reader = new RequestLogReader(
      {
        model: config.model,
        intervalMs: config.sliIntervalMs,
        graceMs: SLI_GRACE_MS,
        toUtc: createLocalToUtc(zone),
      },
      {
        onRequest: (r, failed) =>
          this.onRequest(r.completedAtMs, failed, r.latencyMs),
        onLoad: (evidence, atMs) => this.onLoad(evidence, atMs),
      },
    );
    this.tracker = new HarmTracker({
      ...DEFAULT_HARM_OPTIONS,
      windowMs: config.harmWindowMs,
      latencyThresholdMs: config.latencyThresholdMs,
    });
    this.probes = new ProbeRunner(config, {
      ...deps,
      client: this.client,
      reader: this.reader,
      tracker: this.tracker,
      logger: this.log,
      emitHealth: (event) => this.emitHealth(event),
    });
    this.follower =
      deps.follower === undefined ? this.makeFollower() : deps.follower;
  }

  start(): void {
    const { clock } = this.deps;
    this.log.info(
      {
        url: this.config.url,
        model: this.config.model,
        logSource: this.follower ? this.config.log.source : 'none',
      },
      'ollama monitor started',
    );
    this.reader.begin(clock.nowMs());
    void this.pollOnce(); // pollOnce catches everything itself
    this.cancels.push(
      clock.setInterval(() => void this.pollOnce(), this.config.pollIntervalMs),
    );
    if (this.config.probe.enabled) {
      const tick = (): void => void this.probes.tick();
      this.cancels.push(clock.setInterval(tick, this.config.probe.intervalMs));
    }
    this.cancels.push(clock.setInterval(() => this.flush(), FLUSH_EVERY_MS));
    this.follower?.start((line) => this.ingestLine(line));
  }

  async stop(): Promise<void> {
    for (const cancel of this.cancels.splice(0)) cancel();
    await this.follower?.stop();
    for (const event of this.reader.flushAll(this.deps.clock.nowMs())) {
      this.deps.emit.sli(event);
    }
    this.log.info({ stats: this.stats() }, 'ollama monitor stopped');
  }

  status(): OllamaStatus {
    return residencyStatus(
      this.residency,
      this.config.model,
      this.probes.lastLatencyMs,
    );
  }

  harm(): HarmSignals {
    const nowMs = this.deps.clock.nowMs();
    const logKnown = this.follower !== null;
    return this.tracker.signals({ residency: this.residency, logKnown, nowMs });
  }

  async pollOnce(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      this.apply(await this.observe());
    } catch (error) {
      this.log.error({ err: error }, 'ollama poll failed unexpectedly');
    } finally {
      this.polling = false;
    }
  }

  probeOnce(): Promise<ProbeOutcome | null> {
    return this.probes.tick();
  }

  ingestLine(line: RawLogLine): void {
    try {
      this.reader.ingest(line, this.deps.clock.nowMs());
    } catch (error) {
      this.log.error({ err: error }, 'ollama log line broke the reader');
    }
  }

  stats(): OllamaMonitorStats {
    return { ...this.counts, ...this.probes.stats(), log: this.reader.stats() };
  }

  private async observe(): Promise<ResidencyObservation> {
    this.counts.polls += 1;
    const ps = await this.client.ps();
    if (!ps.ok) {
      this.counts.pollFailures += 1;
      return { kind: 'unreachable', failure: ps.error };
    }
    const needVersion =
      this.residency.version === null ||
      this.residency.phase === 'unreachable' ||
      this.counts.polls % VERSION_EVERY_POLLS === 0;
    const version = needVersion ? await this.client.version() : null;
    return {
      kind: 'ps',
      models: ps.value,
      version: version?.ok ? version.value : null,
    };
  }

  private apply(observation: ResidencyObservation): void {
    const options = {
      url: this.config.url,
      model: this.config.model,
      reloadWarningMs: this.config.reloadWarningMs,
    };
    const nowMs = this.deps.clock.nowMs();
    const { state, events } = observeResidency(
      this.residency,
      observation,
      options,
      nowMs,
    );
    this.residency = state;
    for (const event of events) this.emitHealth(event);
  }

  private emitHealth(event: HealthEvent | Omit<HealthEvent, 'ollama'>): void {
    const full: HealthEvent = { ...event, ollama: this.status() };
    const level = full.status === 'ok' ? 'info' : 'warn';
    this.log[level](
      { kind: full.kind, status: full.status, details: full.details },
      'ollama health changed',
    );
    this.deps.emit.health(full);
  }

  private onRequest(atMs: number, failed: boolean, latencyMs: number): void {
    this.tracker.recordOutcome(atMs, failed, latencyMs);
    this.tracker.recordDemand(atMs);
  }

  private onLoad(evidence: LoadEvidence, atMs: number): void {
    if (evidence.kind === 'load_start') this.tracker.recordDemand(atMs);
    if (evidence.kind === 'load_failed')
      this.tracker.recordLoadFailure(atMs, evidence.reason);
    if (evidence.kind === 'layers')
      this.tracker.recordLayers(atMs, evidence.onGpu, evidence.total);
    const { session, event } = observeLoad(this.loadSession, evidence, atMs);
    this.loadSession = session;
    if (event) this.emitHealth(event);
  }

  private flush(): void {
    for (const event of this.reader.flush(this.deps.clock.nowMs())) {
      this.deps.emit.sli(event);
    }
  }

  private makeFollower(): LogFollower | null {
    const { log } = this.config;
    const followerDeps = { clock: this.deps.clock, logger: this.deps.logger };
    if (log.source === 'journald')
      return createJournalFollower({ unit: log.unit }, followerDeps);
    if (log.source === 'file' && log.path !== null) {
      return createFileFollower({ path: log.path, pollMs: 1000 }, followerDeps);
    }
    return null;
  }
}

function hostZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}
