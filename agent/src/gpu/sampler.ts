/**
 * The sampler: reads the GPUs through NVML or nvidia-smi, enriches each
 * process from `/proc`, and returns a {@link Snapshot}. With source `auto`
 * it prefers NVML, falls back to nvidia-smi when NVML fails, and goes back
 * to NVML when it works again; its health says which source is in use,
 * the last error and whether the data is stale.
 */
import type { Clock } from '../../../shared/src/clock.ts';
import { GpuwardenError } from '../../../shared/src/errors.ts';
import type { Exec } from '../../../shared/src/exec.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import { err, ok } from '../../../shared/src/result.ts';
import type { Result } from '../../../shared/src/result.ts';
import type {
  SampleProblem,
  SampleSource,
  Snapshot,
} from '../../../shared/src/snapshot.ts';
import { createProcReader } from './proc-reader.ts';
import type { ProcReader } from './proc-reader.ts';
import { CONFIG_PATH_SETTINGS } from './sampler-failure.ts';
import type { PathSettings } from './sampler-failure.ts';
import { buildSnapshot } from './sampler-snapshot.ts';
import { createRealSourceFactory } from './sampler-sources.ts';
import type { SourceFactory } from './sampler-sources.ts';
import {
  DEFAULT_NVIDIA_SMI_PATH,
  DEFAULT_NVML_LIBRARY_PATH,
  effectiveIntervalMs,
} from './sampling-config.ts';
import type { SourceChoice } from './sampling-config.ts';
import { DEFAULT_SMI_TIMEOUT_MS } from './smi-source.ts';
import type { GpuSource, SourceFailure, SourceSample } from './source.ts';
import { SourceSwitch } from './sampler-switch.ts';

/** Options of {@link createSampler}. */
export interface SamplerOptions {
  /** Node name written into every snapshot. */
  node: string;
  /** `auto` (NVML, else nvidia-smi), or one source forced. */
  source: SourceChoice;
  /** Sampling interval in ms; `null`/absent = the source's default. */
  intervalMs?: number | null;
  /** Default `nvidia-smi` on `PATH`. */
  nvidiaSmiPath?: string;
  /** Default `libnvidia-ml.so.1`. */
  nvmlLibraryPath?: string;
  /** Timeout of one nvidia-smi call in ms; default 5 s. */
  smiTimeoutMs?: number;
  /** Read `/proc` for each process; default true. */
  enrich?: boolean;
  /** Data older than this is stale, ms; default 3 × the interval. */
  staleAfterMs?: number;
  /** While falling back, how often NVML is tried again, ms; default 30 s. */
  primaryRetryMs?: number;
  /** User database for names; default `/etc/passwd`. */
  passwdPath?: string;
  /**
   * How this command's user sets the NVML and nvidia-smi paths, named in
   * the no-GPU message: the config keys by default, the flags for
   * `sample`, null to name none.
   */
  pathSettings?: PathSettings | null;
}

/** Collaborators of {@link createSampler}. */
export interface SamplerDeps {
  clock: Clock;
  logger: Logger;
  exec: Exec;
  fs: Fs;
  /** Root of the proc file system; default `/proc`. */
  procRoot?: string;
  /** Makes the sources; default the real NVML and nvidia-smi sources. */
  createSource?: SourceFactory;
}

/** How sampling is doing, for the agent's health report. */
export interface SamplerHealth {
  /** Source of the last successful sample; `null` when none works now. */
  source: SampleSource | null;
  /** Why the preferred source is not in use (or nothing works); or null. */
  lastError: string | null;
  /** Wall time of the last successful sample, epoch ms; null before one. */
  lastSampleAtMs: number | null;
  /** True before the first sample and when the last is too old. */
  stale: boolean;
}

/** Samples a host's GPUs. */
export interface Sampler {
  /**
   * One snapshot. Concurrent calls share one reading (nvidia-smi runs one
   * at a time).
   *
   * @throws GpuwardenError `SOURCE_UNAVAILABLE` when no source could be
   *   read; its message says why and what to do.
   */
  sampleOnce(): Promise<Snapshot>;
  /** Like {@link Sampler.sampleOnce}, with the failure as a value. */
  trySample(): Promise<Result<Snapshot, SourceFailure>>;
  health(): SamplerHealth;
  /** The interval to sample at with the source now in use, in ms. */
  intervalMs(): number;
  /** Releases the sources (NVML handle, a running nvidia-smi). */
  close(): Promise<void>;
}

/** Default for {@link SamplerOptions.primaryRetryMs}. */
export const DEFAULT_PRIMARY_RETRY_MS = 30_000;

/** Creates a sampler; it opens no source until the first sample. */
export function createSampler(
  options: SamplerOptions,
  deps: SamplerDeps,
): Sampler {
  return new GpuSampler(options, deps);
}

class GpuSampler implements Sampler {
  private readonly log: Logger;
  private readonly switcher: SourceSwitch;
  private readonly procs: ProcReader | null;
  private readonly sources = new Map<SampleSource, Promise<GpuSource>>();
  private readonly makeSource: SourceFactory;
  private inFlight: Promise<Result<Snapshot, SourceFailure>> | null = null;
  private lastSuccessMonoMs: number | null = null;
  private lastSampleAtMs: number | null = null;

  constructor(
    private readonly options: SamplerOptions,
    private readonly deps: SamplerDeps,
  ) {
    this.log = deps.logger.child({ component: 'sampler' });
    this.switcher = new SourceSwitch(
      options.source,
      options.primaryRetryMs ?? DEFAULT_PRIMARY_RETRY_MS,
      { clock: deps.clock, logger: this.log },
      {
        nvmlLibraryPath: options.nvmlLibraryPath ?? DEFAULT_NVML_LIBRARY_PATH,
        nvidiaSmiPath: options.nvidiaSmiPath ?? DEFAULT_NVIDIA_SMI_PATH,
        pathSettings:
          options.pathSettings === undefined
            ? CONFIG_PATH_SETTINGS
            : options.pathSettings,
      },
    );
    this.procs =
      options.enrich === false
        ? null
        : createProcReader({ passwdPath: options.passwdPath }, deps);
    this.makeSource = deps.createSource ?? this.realFactory();
  }

  async sampleOnce(): Promise<Snapshot> {
    const result = await this.trySample();
    if (result.ok) return result.value;
    throw new GpuwardenError('SOURCE_UNAVAILABLE', result.error.message, {
      cause: result.error,
    });
  }

  trySample(): Promise<Result<Snapshot, SourceFailure>> {
    this.inFlight ??= this.sampleNow().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  health(): SamplerHealth {
    const staleAfterMs = this.options.staleAfterMs ?? 3 * this.intervalMs();
    const ageMs =
      this.lastSuccessMonoMs === null
        ? null
        : this.deps.clock.monotonicMs() - this.lastSuccessMonoMs;
    return {
      source: this.switcher.current(),
      lastError: this.switcher.lastError(),
      lastSampleAtMs: this.lastSampleAtMs,
      stale: ageMs === null || ageMs > staleAfterMs,
    };
  }

  intervalMs(): number {
    const source = this.switcher.current() ?? this.switcher.preferred();
    return effectiveIntervalMs(this.options.intervalMs ?? null, source);
  }

  async close(): Promise<void> {
    const open = [...this.sources.values()];
    this.sources.clear();
    await Promise.all(
      open.map((source) =>
        source.then(
          (opened) => opened.close(),
          // A source that never opened holds nothing to release.
          () => undefined,
        ),
      ),
    );
  }

  private async sampleNow(): Promise<Result<Snapshot, SourceFailure>> {
    for (const kind of this.switcher.order()) {
      const result = await this.readSource(kind);
      if (!result.ok) {
        this.switcher.failed(kind, result.error);
        continue;
      }
      this.switcher.succeeded(kind);
      return ok(await this.toSnapshot(result.value));
    }
    return err(this.switcher.allFailed());
  }

  private async toSnapshot(sample: SourceSample): Promise<Snapshot> {
    const takenAtMs = this.deps.clock.nowMs();
    const pids = sample.gpus.flatMap((g) => g.processes.map((p) => p.pid));
    const procs = this.procs ? await this.procs.read(pids) : null;
    const hasUnresolved = procs !== null && [...procs.values()].includes(null);

    this.lastSuccessMonoMs = this.deps.clock.monotonicMs();
    this.lastSampleAtMs = takenAtMs;
    this.log.debug({ source: sample.source, pids: pids.length }, 'sampled');
    return buildSnapshot({
      node: this.options.node,
      takenAtMs,
      sample,
      procs,
      nestedPidNamespace: hasUnresolved
        ? this.procs?.inNestedPidNamespace()
        : null,
      problems: this.fallbackProblems(),
    });
  }

  private fallbackProblems(): SampleProblem[] {
    const reason = this.switcher.lastError();
    if (reason === null) return [];
    return [{ kind: 'source_fallback', message: reason }];
  }

  /** One read of `kind`; a source that throws is reported as a failure. */
  private async readSource(
    kind: SampleSource,
  ): Promise<Result<SourceSample, SourceFailure>> {
    try {
      return await (await this.source(kind)).sample();
    } catch (error) {
      this.sources.delete(kind);
      return err({
        kind: 'source_error',
        message: `${kind} source failed unexpectedly: ${(error as Error).message}`,
        retryable: true,
      });
    }
  }

  private source(kind: SampleSource): Promise<GpuSource> {
    let source = this.sources.get(kind);
    if (!source) {
      source = Promise.resolve(this.makeSource(kind));
      this.sources.set(kind, source);
    }
    return source;
  }

  private realFactory(): SourceFactory {
    const o = this.options;
    return createRealSourceFactory(
      {
        nvidiaSmiPath: o.nvidiaSmiPath ?? DEFAULT_NVIDIA_SMI_PATH,
        nvmlLibraryPath: o.nvmlLibraryPath ?? DEFAULT_NVML_LIBRARY_PATH,
        smiTimeoutMs: o.smiTimeoutMs ?? DEFAULT_SMI_TIMEOUT_MS,
      },
      this.deps,
    );
  }
}
