/**
 * The agent daemon: samples on a timer, runs the guard on every snapshot
 * with the Ollama monitor's harm signals, and sends snapshots, SLI, guard
 * and health events up the link (and to a recording). One loop, driven by
 * the injected clock.
 */
import path from 'node:path';
import type { Clock } from '../../../shared/src/clock.ts';
import type { Exec } from '../../../shared/src/exec.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type {
  AgentPayload,
  HealthEvent,
  Hello,
} from '../../../shared/src/messages.ts';
import type { Snapshot } from '../../../shared/src/snapshot.ts';
import { holdStateLock } from '../../../shared/src/state-lock.ts';
import type {
  StateLock,
  StateLockDeps,
} from '../../../shared/src/state-lock.ts';
import type { AgentConfig } from '../config.ts';
import {
  readAncestry,
  readBootId,
  readProcessIdentity,
} from '../gpu/proc-identity.ts';
import { createSampler } from '../gpu/sampler.ts';
import { samplerOptionsFrom } from '../gpu/sampling-config.ts';
import type { Sampler } from '../gpu/sampler.ts';
import {
  NO_HARM_EVIDENCE,
  createGuardRuntime,
  createHookNotifier,
  createSignaller,
} from '../guard/index.ts';
import type { GpuDecision, GuardRuntime } from '../guard/index.ts';
import { createLinkClient } from '../link/link-client.ts';
import type { LinkClient } from '../link/link-client.ts';
import { createRecorder } from '../link/recorder.ts';
import type { Recorder } from '../link/recorder.ts';
import { createOllamaMonitor } from '../ollama/monitor.ts';
import type { OllamaMonitor } from '../ollama/monitor.ts';
import { markProtected, samplerHealthEvent } from './snapshot-marks.ts';

/** What the daemon is told at start. */
export interface AgentRuntimeOptions {
  config: AgentConfig;
  /** Also write every message as JSON lines here (`--record`). */
  recordFile: string | null;
  agentVersion: string;
  /** Host facts for the hello message, gathered once. */
  host: Hello['host'];
}

/** Collaborators of the daemon. */
export interface AgentRuntimeDeps {
  clock: Clock;
  logger: Logger;
  exec: Exec;
  fs: Fs;
  /** This process and its parent: never signalled. */
  self: { pid: number; ppid: number };
  /** Root of the proc file system; default `/proc`. */
  procRoot?: string;
  /** Seams of the state directory lock (tests); the real ones by default. */
  stateLock?: Omit<StateLockDeps, 'logger' | 'clock'>;
}

/** The running daemon. */
export interface AgentRuntime {
  /**
   * Locks the state directory and starts sampling.
   *
   * @throws GpuwardenError `STORE_FAILED` when another agent uses the
   *   state directory (or it cannot be locked); its message says what to do.
   */
  start(): Promise<void>;
  /** Stops the loop, waits for an enforcement in progress, flushes. */
  stop(): Promise<void>;
  /** Resolves after the next completed sample (for tests and the demo). */
  nextSample(): Promise<Snapshot | null>;
}

/** Builds the daemon; nothing runs before `start()`. */
export function createAgentRuntime(
  options: AgentRuntimeOptions,
  deps: AgentRuntimeDeps,
): AgentRuntime {
  return new Agent(options, deps);
}

class Agent implements AgentRuntime {
  private readonly log: Logger;
  private readonly sampler: Sampler;
  private readonly recorder: Recorder | null;
  private readonly link: LinkClient | null;
  private monitor: OllamaMonitor | null = null;
  private guard: GuardRuntime | null = null;
  private cancelTick: (() => void) | null = null;
  private stopped = false;
  private localSeq = 1;
  private samplerDown: string | null = null;
  private waiters: ((s: Snapshot | null) => void)[] = [];
  private protectedPids = new Map<string, Set<number>>();
  private lock: StateLock | null = null;

  constructor(
    private readonly options: AgentRuntimeOptions,
    private readonly deps: AgentRuntimeDeps,
  ) {
    const { config } = options;
    this.log = deps.logger.child({ component: 'agent' });
    this.sampler = createSampler(
      samplerOptionsFrom(config.node, config.sampling),
      deps,
    );
    this.recorder = options.recordFile
      ? createRecorder(options.recordFile, deps)
      : null;
    this.link = config.link
      ? createLinkClient(
          {
            node: config.node,
            agentVersion: options.agentVersion,
            stateDir: config.stateDir,
            config: config.link,
          },
          { ...deps, recorder: this.recorder ?? undefined },
        )
      : null;
  }

  async start(): Promise<void> {
    const { config } = this.options;
    await this.deps.fs.mkdir(this.options.config.stateDir);
    // One agent per state directory: a second would share the outbox and
    // reuse sequence numbers the collector already saw.
    this.lock = await holdStateLock(
      config.stateDir,
      { name: 'agent', dirSetting: 'stateDir' },
      { logger: this.log, clock: this.deps.clock, ...this.deps.stateLock },
    );
    const bootId = await readBootId(this.procDeps());
    this.guard = this.createGuard(bootId);
    this.monitor = config.ollama.enabled ? this.createMonitor() : null;

    const first = await this.sampler.trySample();
    await this.link?.start();
    this.send({ type: 'hello', hello: this.hello(bootId, first) });
    this.monitor?.start();
    this.log.info(
      {
        node: config.node,
        mode: config.guard.mode,
        collector: config.link?.address ?? null,
        record: this.options.recordFile,
      },
      'agent started',
    );
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTick?.();
    await this.monitor?.stop();
    await this.guard?.whenIdle();
    await this.sampler.close();
    await this.link?.stop();
    await this.recorder?.flush();
    await this.lock?.release();
    for (const wake of this.waiters.splice(0)) wake(null);
    this.log.info({}, 'agent stopped');
  }

  nextSample(): Promise<Snapshot | null> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.cancelTick = this.deps.clock.setTimeout(() => {
      void this.tick().finally(() => this.schedule(this.sampler.intervalMs()));
    }, delayMs);
  }

  private async tick(): Promise<void> {
    try {
      const result = await this.sampler.trySample();
      if (!result.ok) {
        this.reportSampler(result.error.message);
        for (const wake of this.waiters.splice(0)) wake(null);
        return;
      }
      this.reportSampler(null);
      await this.runGuard(result.value);
      const snapshot = markProtected(result.value, this.protectedPids);
      this.send({ type: 'snapshot', snapshot });
      for (const wake of this.waiters.splice(0)) wake(snapshot);
    } catch (err) {
      // A bug in one tick must not end the daemon; the next tick retries.
      this.log.error({ err }, 'sample loop failed');
    }
  }

  private async runGuard(snapshot: Snapshot): Promise<void> {
    if (!this.guard) return;
    const harm = this.monitor?.harm() ?? NO_HARM_EVIDENCE;
    const resident = this.monitor?.status().resident ?? null;
    const decisions = await this.guard.onSample(snapshot, harm, {
      modelResident: resident,
    });
    this.rememberProtected(decisions);
  }

  private rememberProtected(decisions: GpuDecision[]): void {
    for (const d of decisions) {
      const pids = d.excluded
        .filter((e) => e.reason === 'protected_workload')
        .map((e) => e.process.pid);
      this.protectedPids.set(d.gpuUuid, new Set(pids));
    }
  }

  private reportSampler(error: string | null): void {
    if (error === this.samplerDown) return;
    const event: HealthEvent = samplerHealthEvent(
      this.deps.clock.nowMs(),
      error,
      this.sampler.health().source,
    );
    if (error) this.log.warn({ error }, 'sampling failed');
    else if (this.samplerDown) this.log.info({}, 'sampling recovered');
    this.samplerDown = error;
    this.send({ type: 'health', health: event });
  }

  private send(payload: AgentPayload): void {
    if (this.link) {
      this.link.send(payload);
      return;
    }
    this.recorder?.record({
      node: this.options.config.node,
      seq: this.localSeq++,
      sentAtMs: this.deps.clock.nowMs(),
      payload,
    });
  }

  private hello(
    bootId: string | null,
    first: Awaited<ReturnType<Sampler['trySample']>>,
  ): Hello {
    const gpus = first.ok
      ? first.value.gpus.map((g) => ({
          index: g.index,
          uuid: g.uuid,
          name: g.name,
          totalBytes: g.memory.totalBytes,
        }))
      : [];
    return {
      node: this.options.config.node,
      agentVersion: this.options.agentVersion,
      bootId,
      startedAtMs: this.deps.clock.nowMs(),
      host: this.options.host,
      gpus,
      policy: this.guard?.summary() ?? {
        mode: this.options.config.guard.mode,
        policyHash: '',
        reservations: [],
      },
    };
  }

  private createGuard(bootId: string | null): GuardRuntime {
    const { config } = this.options;
    const { hook } = config.guard;
    const hasHook = hook.command !== null || hook.webhook !== null;
    return createGuardRuntime(config.guard, {
      node: config.node,
      self: this.deps.self,
      bootId,
      sample: () => this.sampler.sampleOnce(),
      readIdentity: (pid) => readProcessIdentity(pid, this.procDeps()),
      readAncestry: (pid) => readAncestry(pid, this.procDeps()),
      signal: createSignaller({
        selfPid: this.deps.self.pid,
        parentPid: this.deps.self.ppid,
      }),
      clock: this.deps.clock,
      logger: this.deps.logger,
      fs: this.deps.fs,
      emit: (guard) => this.send({ type: 'guard', guard }),
      notify: hasHook
        ? createHookNotifier(hook, {
            exec: this.deps.exec,
            fetch: globalThis.fetch,
            logger: this.deps.logger,
          })
        : undefined,
      auditFile: path.resolve(config.stateDir, config.guard.auditFile),
      ollamaUrl: config.ollama.url,
    });
  }

  private createMonitor(): OllamaMonitor {
    return createOllamaMonitor(this.options.config.ollama, {
      clock: this.deps.clock,
      logger: this.deps.logger,
      exec: this.deps.exec,
      fs: this.deps.fs,
      emit: {
        sli: (sli) => this.send({ type: 'sli', sli }),
        health: (health) => this.send({ type: 'health', health }),
      },
    });
  }

  private procDeps() {
    return { fs: this.deps.fs, procRoot: this.deps.procRoot };
  }
}
