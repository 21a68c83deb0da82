/**
 * The NVML GPU source: `libnvidia-ml.so.1` through koffi, the calls in a
 * worker thread (nvml-backend.ts says why). Init failures are states, not
 * crashes: each is classified (`driver_not_loaded`, `driver_mismatch`, …)
 * and retried with exponential backoff, because a driver that was not
 * loaded at boot comes up later (bug corpus B08, B09).
 */
import type { Clock } from '../../../shared/src/clock.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { Result } from '../../../shared/src/result.ts';
import { err, ok } from '../../../shared/src/result.ts';
import type { NvmlBackend } from './nvml-backend.ts';
import { createInlineBackend, createWorkerBackend } from './nvml-backend.ts';
import { classifyInitFailure, nvmlErrorName } from './nvml-errors.ts';
import type { NvmlOp, NvmlReply, NvmlSessionFailure } from './nvml-session.ts';
import type { GpuSource, SourceFailure, SourceSample } from './source.ts';

/** The library name the dynamic loader looks up by default. */
export const DEFAULT_NVML_LIBRARY_PATH = 'libnvidia-ml.so.1';
/** Default longest wait for one NVML operation, in ms. */
export const DEFAULT_NVML_CALL_TIMEOUT_MS = 10_000;
/** Default first wait after a failed init, in ms; doubles per failure. */
export const DEFAULT_NVML_INIT_BACKOFF_MS = 1_000;
/** Default longest wait between init attempts, in ms. */
export const DEFAULT_NVML_MAX_INIT_BACKOFF_MS = 60_000;

/** Options of {@link createNvmlSource}. */
export interface NvmlSourceOptions {
  /** Path or file name of the library (default `libnvidia-ml.so.1`). */
  libraryPath: string;
  /** Where the calls run: `worker` (default) or `inline` (tests, bench). */
  thread?: 'worker' | 'inline';
  /** Longest wait for one operation before `timeout`, in ms (10 000). */
  callTimeoutMs?: number;
  /** First wait after a failed init, in ms (1 000); doubles per failure. */
  initBackoffMs?: number;
  /** Longest wait between init attempts, in ms (60 000). */
  maxInitBackoffMs?: number;
}

/**
 * Creates the NVML source. `sample()` never throws: a library that cannot
 * be loaded is `library_missing`, a failed init its class with
 * `retryable: true`, an unknown process-info layout `abi_mismatch` with
 * `retryable: false` (the sampler falls back to nvidia-smi). Per-GPU
 * failures (a lost GPU, an unsupported field) are `problems` of a
 * successful sample. `close()` calls nvmlShutdown and ends the worker.
 */
export function createNvmlSource(
  options: NvmlSourceOptions,
  deps: { clock: Clock; logger: Logger },
): GpuSource {
  return new NvmlSource(options, deps);
}

class NvmlSource implements GpuSource {
  readonly kind = 'nvml' as const;
  private readonly log: Logger;
  private backend: NvmlBackend | null = null;
  private ready = false;
  private closed = false;
  private busySinceMs: number | null = null;
  private backoffMs: number;
  private nextOpenAtMs = 0;
  private lastFailure: SourceFailure | null = null;

  constructor(
    private readonly options: NvmlSourceOptions,
    private readonly deps: { clock: Clock; logger: Logger },
  ) {
    this.log = deps.logger.child({ component: 'nvml' });
    this.backoffMs = options.initBackoffMs ?? DEFAULT_NVML_INIT_BACKOFF_MS;
  }

  async sample(): Promise<Result<SourceSample, SourceFailure>> {
    if (this.closed) {
      return err({
        kind: 'closed',
        message: 'the NVML source was closed',
        retryable: false,
      });
    }
    if (this.busySinceMs !== null) return err(this.stuck());
    if (!this.ready) {
      const opened = await this.open();
      if (opened) return err(opened);
    }

    const reply = await this.call('sample');
    if (reply === 'timeout') return err(this.stuck());
    if (reply.ok && reply.value) {
      this.recovered();
      return ok(reply.value);
    }
    return err(this.sampleFailed(reply));
  }

  async close(): Promise<void> {
    this.closed = true;
    const backend = this.backend;
    if (!backend) return;
    if (this.busySinceMs !== null) {
      // A thread stuck in the driver cannot be interrupted: it ends when
      // the call returns, and nothing waits for it.
      void backend.dispose();
      return;
    }
    if (this.ready) await this.call('close');
    this.ready = false;
    await backend.dispose();
  }

  /** Loads and initialises NVML unless still backing off; the failure. */
  private async open(): Promise<SourceFailure | null> {
    const nowMs = this.deps.clock.monotonicMs();
    if (this.lastFailure && nowMs < this.nextOpenAtMs) return this.lastFailure;

    const reply = await this.call('open');
    if (reply === 'timeout') return this.stuck();
    if (reply.ok) {
      this.ready = true;
      return null;
    }
    const retryInMs = this.backoffMs;
    this.nextOpenAtMs = nowMs + retryInMs;
    this.backoffMs = Math.min(
      retryInMs * 2,
      this.options.maxInitBackoffMs ?? DEFAULT_NVML_MAX_INIT_BACKOFF_MS,
    );
    return this.remember(classify(reply.error, retryInMs));
  }

  private sampleFailed(reply: NvmlReply): SourceFailure {
    if (reply.ok) {
      return {
        kind: 'nvml_error',
        message: 'NVML gave no sample',
        retryable: true,
      };
    }
    if ('reinit' in reply.error && reply.error.reinit) {
      this.ready = false;
      this.nextOpenAtMs = this.deps.clock.monotonicMs() + this.backoffMs;
    }
    return this.remember(classify(reply.error, this.backoffMs));
  }

  /** Runs one operation, or answers `timeout` after `callTimeoutMs`. */
  private async call(op: NvmlOp): Promise<NvmlReply | 'timeout'> {
    this.backend ??=
      this.options.thread === 'inline'
        ? createInlineBackend(this.options.libraryPath)
        : createWorkerBackend(this.options.libraryPath);
    const timeoutMs =
      this.options.callTimeoutMs ?? DEFAULT_NVML_CALL_TIMEOUT_MS;
    let cancel = (): void => {};
    const timeout = new Promise<'timeout'>((resolve) => {
      cancel = this.deps.clock.setTimeout(() => resolve('timeout'), timeoutMs);
    });

    this.busySinceMs = this.deps.clock.monotonicMs();
    const running = this.backend.run(op).then((reply) => {
      this.busySinceMs = null;
      return reply;
    });
    const result = await Promise.race([running, timeout]);
    cancel();
    return result;
  }

  private stuck(): SourceFailure {
    const waitedMs = this.deps.clock.monotonicMs() - (this.busySinceMs ?? 0);
    return this.remember({
      kind: 'timeout',
      message: `an NVML call has not returned for ${Math.round(waitedMs / 1000)} s (driver busy or hung); the agent keeps running, use nvidia-smi meanwhile`,
      retryable: true,
    });
  }

  /** Logs a failure when its kind changes (not every sample). */
  private remember(failure: SourceFailure): SourceFailure {
    if (this.lastFailure?.kind !== failure.kind) {
      this.log.warn(
        { kind: failure.kind, reason: failure.message },
        'nvml unavailable',
      );
    }
    this.lastFailure = failure;
    return failure;
  }

  private recovered(): void {
    if (this.lastFailure) {
      this.log.info(
        { previous: this.lastFailure.kind },
        'nvml sampling recovered',
      );
    }
    this.lastFailure = null;
    this.backoffMs = this.options.initBackoffMs ?? DEFAULT_NVML_INIT_BACKOFF_MS;
  }
}

/** A session failure as the sampler sees it. */
function classify(
  failure: NvmlSessionFailure,
  retryInMs: number,
): SourceFailure {
  switch (failure.kind) {
    case 'library_missing':
    case 'library_incompatible':
    case 'worker_failed':
    case 'abi_mismatch':
      return { kind: failure.kind, message: failure.text, retryable: false };
    case 'call_failed':
      if (failure.reinit && failure.code !== null) {
        return classifyInitFailure(
          failure.call,
          failure.code,
          failure.text,
          retryInMs,
        );
      }
      return {
        kind: 'nvml_error',
        message: `NVML ${failure.call} failed: ${failure.text} (${nvmlErrorName(failure.code ?? 0)})`,
        retryable: true,
      };
  }
}
