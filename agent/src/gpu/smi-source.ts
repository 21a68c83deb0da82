/**
 * The live nvidia-smi source: runs `nvidia-smi -q -x` (no shell,
 * `LC_ALL=C`, a timeout that kills it, never two at once), checks the exit
 * status before parsing, and turns error output into a classified failure.
 *
 * Why `-q -x` and not `--query-gpu` + `--query-compute-apps` CSV: one run
 * gives every GPU *and* its processes at one moment, including graphics
 * processes (on Linux `--query-compute-apps` lists compute contexts only,
 * so a graphics process holding VRAM would look like unattributed memory),
 * process types (`C`, `G`, `C+G`) and the MIG instance of each process,
 * where the CSV names only the parent GPU. The price is a bigger output
 * (about 50–120 KB per GPU, 1–3 ms to parse) and more driver time, which
 * is why nvidia-smi samples every 2 s and NVML is preferred when present.
 */
import type { Clock } from '../../../shared/src/clock.ts';
import type { Exec, ExecResult } from '../../../shared/src/exec.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import { err } from '../../../shared/src/result.ts';
import type { Result } from '../../../shared/src/result.ts';
import type { GpuSource, SourceFailure, SourceSample } from './source.ts';
import { classifySmiError } from './smi-errors.ts';
import { decodeSmiBytes } from './smi-values.ts';
import { parseSmiXml } from './smi-xml.ts';

/** Default wait for one nvidia-smi run before it is killed. */
export const DEFAULT_SMI_TIMEOUT_MS = 5000;

/** Longest pause between runs while nvidia-smi keeps timing out. */
export const MAX_SMI_TIMEOUT_BACKOFF_MS = 60_000;

/** Default program: `nvidia-smi`, looked up in `PATH`. */
export const DEFAULT_NVIDIA_SMI_PATH = 'nvidia-smi';

/** Arguments of the live run. */
export const SMI_ARGS: readonly string[] = ['-q', '-x'];

/** Options of {@link createSmiSource}. */
export interface SmiSourceOptions {
  /** Program to run; a bare name is looked up in `PATH`. Default `nvidia-smi`. */
  nvidiaSmiPath: string;
  /** Kill nvidia-smi after this many milliseconds. Default 5000. */
  timeoutMs: number;
}

/** Collaborators of {@link createSmiSource}. */
export interface SmiSourceDeps {
  exec: Exec;
  clock: Clock;
  logger: Logger;
}

type SampleResult = Result<SourceSample, SourceFailure>;

/**
 * Creates the nvidia-smi source. `sample()` never throws; a call made
 * while a run is in flight joins that run instead of starting another.
 * From the second timeout in a row it backs off (see
 * {@link MAX_SMI_TIMEOUT_BACKOFF_MS}): calls answer the last timeout,
 * retryable, without starting nvidia-smi until the pause is over.
 */
export function createSmiSource(
  options: SmiSourceOptions,
  deps: SmiSourceDeps,
): GpuSource {
  const log = deps.logger.child({ component: 'nvidia-smi' });
  let inFlight: Promise<SampleResult> | null = null;
  let lastFailureKind: string | null = null;
  const backoff = createTimeoutBackoff(options.timeoutMs, deps.clock);

  const runOnce = async (): Promise<SampleResult> => {
    const startedMs = deps.clock.monotonicMs();
    const result = await runSmi(options, deps.exec);
    const elapsedMs = deps.clock.monotonicMs() - startedMs;
    backoff.record(result);
    if (result.ok) {
      if (lastFailureKind !== null)
        log.info({ elapsedMs }, 'nvidia-smi recovered');
      log.debug(
        { elapsedMs, gpus: result.value.gpus.length },
        'nvidia-smi sampled',
      );
      lastFailureKind = null;
    } else if (result.error.kind !== lastFailureKind) {
      log.warn({ ...result.error, elapsedMs }, 'nvidia-smi failed');
      lastFailureKind = result.error.kind;
    }
    return result;
  };

  return {
    kind: 'nvidia-smi',
    sample() {
      const waiting = inFlight ? null : backoff.pending();
      if (waiting) return Promise.resolve(err(waiting));
      inFlight ??= runOnce().finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
    async close() {
      // A run in flight ends by itself within timeoutMs; waiting for it
      // means no nvidia-smi outlives the source.
      await inFlight;
    },
  };
}

/**
 * Spaces out runs after repeated timeouts: a hung GPU makes every run hang
 * too, and each one loads the driver again. One timeout is forgiven (the
 * first run after idle can be slow); from the second in a row the next
 * run waits `timeoutMs`, then twice as long each time, up to the maximum.
 */
function createTimeoutBackoff(timeoutMs: number, clock: Clock) {
  let timeouts = 0;
  let last: SourceFailure | null = null;
  let nextRunAtMs = 0;

  const record = (result: SampleResult): void => {
    if (result.ok || result.error.kind !== 'timeout') {
      timeouts = 0;
      return;
    }
    timeouts += 1;
    last = result.error;
    const waitMs =
      timeouts < 2
        ? 0
        : Math.min(timeoutMs * 2 ** (timeouts - 2), MAX_SMI_TIMEOUT_BACKOFF_MS);
    nextRunAtMs = clock.monotonicMs() + waitMs;
  };

  const pending = (): SourceFailure | null => {
    const leftMs = nextRunAtMs - clock.monotonicMs();
    if (timeouts < 2 || last === null || leftMs <= 0) return null;
    const waitS = Math.ceil(leftMs / 1000);
    const message = `${last.message}; ${timeouts} timeouts in a row, next try in ${waitS} s`;
    return { ...last, message };
  };

  return { record, pending };
}

async function runSmi(
  options: SmiSourceOptions,
  exec: Exec,
): Promise<SampleResult> {
  let run: ExecResult;
  try {
    run = await exec(options.nvidiaSmiPath, SMI_ARGS, {
      timeoutMs: options.timeoutMs,
      env: { LC_ALL: 'C' },
    });
  } catch (error) {
    return err(startFailure(options.nvidiaSmiPath, String(error)));
  }
  return interpretRun(run, options);
}

/**
 * Turns one finished run into a sample or a failure: spawn errors,
 * timeouts and signals first, then the exit status, and only a clean exit
 * is parsed as XML. Exported for tests.
 */
export function interpretRun(
  run: ExecResult,
  options: SmiSourceOptions,
): SampleResult {
  if (run.spawnError) {
    return err(startFailure(options.nvidiaSmiPath, run.spawnError));
  }
  if (run.timedOut) return err(timeoutFailure(options.timeoutMs));
  if (run.exitCode === null) return err(signalFailure(run.signal));

  const stdout = decodeSmiBytes(run.stdout);
  const failure = classifySmiError(run.exitCode, stdout, run.stderr);
  if (failure) return err(failure);
  return parseSmiXml(stdout);
}

function startFailure(path: string, why: string): SourceFailure {
  return {
    kind: 'smi_not_runnable',
    message: `nvidia-smi could not be started as "${path}" (${why}): install the NVIDIA driver utilities or point --nvidia-smi / nvidiaSmiPath at the program`,
    retryable: false,
  };
}

function timeoutFailure(timeoutMs: number): SourceFailure {
  return {
    kind: 'timeout',
    message: `nvidia-smi did not answer within ${timeoutMs} ms and was killed: a GPU may be hung (check dmesg for Xid errors), or raise the timeout on hosts with many GPUs`,
    retryable: true,
  };
}

function signalFailure(signal: string | null): SourceFailure {
  return {
    kind: 'smi_killed',
    message: `nvidia-smi was ended by ${signal ?? 'a signal'} before it finished; sampling again`,
    retryable: true,
  };
}
