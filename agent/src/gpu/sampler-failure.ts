/**
 * The one line shown when no GPU source could be read: each source's
 * failure named briefly, then one fix that fits the combination. The
 * sources' full messages stay in the logs; this line is what a person
 * reads first, often on a host with no NVIDIA driver at all. Pure.
 */
import type { SampleSource } from '../../../shared/src/snapshot.ts';
import {
  DEFAULT_NVIDIA_SMI_PATH,
  DEFAULT_NVML_LIBRARY_PATH,
} from './sampling-config.ts';
import type { SourceFailure } from './source.ts';

/** How the user of this command points gpuwarden at NVML and nvidia-smi. */
export interface PathSettings {
  /** E.g. `--nvml-lib` or `sampling.nvmlLibraryPath`. */
  nvml: string;
  /** E.g. `--nvidia-smi` or `sampling.nvidiaSmiPath`. */
  nvidiaSmi: string;
}

/** The config keys, for the daemon and `check`. */
export const CONFIG_PATH_SETTINGS: PathSettings = {
  nvml: 'sampling.nvmlLibraryPath',
  nvidiaSmi: 'sampling.nvidiaSmiPath',
};

/** The flags of `gpuwarden-agent sample`. */
export const FLAG_PATH_SETTINGS: PathSettings = {
  nvml: '--nvml-lib',
  nvidiaSmi: '--nvidia-smi',
};

/** What the message may name besides the failures. */
export interface FailureContext {
  nvmlLibraryPath: string;
  nvidiaSmiPath: string;
  /** Null: the command cannot set the paths, so no setting is named. */
  pathSettings: PathSettings | null;
}

/** One source's failure. */
export interface SourceAttempt {
  source: SampleSource;
  failure: SourceFailure;
}

const DEMO_HINT = 'run npm run demo to see gpuwarden on a simulated GPU';

/**
 * Every source failed: one short line. With no NVML library and no
 * nvidia-smi program the host has no driver, and the line says so.
 */
export function describeAllFailed(
  attempts: readonly SourceAttempt[],
  context: FailureContext,
): string {
  const nvml = attempts.find((a) => a.source === 'nvml')?.failure;
  const smi = attempts.find((a) => a.source === 'nvidia-smi')?.failure;
  const parts = attempts.map((a) => shortReason(a, context)).join(', ');
  if (nvml?.kind === 'library_missing' && smi && smiErrno(smi) === 'ENOENT') {
    return `no NVIDIA GPU or driver found on this host (${parts}); ${driverFix(context)}`;
  }
  return `no GPU source could be read (${parts}); ${fixFor(attempts, context)}`;
}

/** E.g. `libnvidia-ml.so.1 not loadable`, `nvidia-smi: driver not loaded`. */
function shortReason(attempt: SourceAttempt, context: FailureContext): string {
  const { kind } = attempt.failure;
  if (attempt.source === 'nvml' && kind === 'library_missing') {
    return `${context.nvmlLibraryPath} not loadable`;
  }
  if (attempt.source === 'nvml' && kind === 'library_incompatible') {
    return `${context.nvmlLibraryPath} too old`;
  }
  if (kind === 'smi_not_runnable') return smiStartReason(attempt, context);
  const label = attempt.source === 'nvml' ? 'NVML' : 'nvidia-smi';
  return `${label}: ${KIND_WORDS[kind] ?? `failed (${kind})`}`;
}

const KIND_WORDS: Record<string, string> = {
  driver_not_loaded: 'driver not loaded',
  driver_mismatch: 'driver/library version mismatch',
  no_permission: 'no permission on /dev/nvidia*',
  no_gpu: 'no GPU found',
  no_devices: 'no GPU found',
  gpu_lost: 'a GPU is lost',
  library_missing: 'libnvidia-ml not found',
  timeout: 'timed out',
  smi_killed: 'killed by a signal',
};

function smiStartReason(
  attempt: SourceAttempt,
  context: FailureContext,
): string {
  const program = context.nvidiaSmiPath;
  const errno = smiErrno(attempt.failure);
  if (errno === 'ENOENT') {
    return program.includes('/')
      ? `${program} not found`
      : `${program} not on PATH`;
  }
  if (errno === 'EACCES') return `${program} not executable`;
  return `${program} could not be started`;
}

/**
 * The errno of a failed nvidia-smi start, e.g. `ENOENT`. The failure
 * carries it only inside its message, written by the nvidia-smi source
 * as `(spawn <path> ENOENT)`.
 */
function smiErrno(failure: SourceFailure): string | null {
  if (failure.kind !== 'smi_not_runnable') return null;
  return /\b(E[A-Z]+)\)/.exec(failure.message)?.[1] ?? null;
}

/** The fix for the most telling failure, in order of what to do first. */
const FIXES: readonly [readonly string[], string][] = [
  [
    ['gpu_lost'],
    'check dmesg for Xid errors; a lost GPU needs a reset or a reboot',
  ],
  [
    ['driver_mismatch'],
    'the driver was upgraded without a reboot: reboot, or reload the nvidia kernel modules',
  ],
  [
    ['driver_not_loaded', 'nvml_init_failed'],
    'load the NVIDIA kernel module (modprobe nvidia) and check dmesg',
  ],
  [
    ['no_permission'],
    'run as a user that can open /dev/nvidia* (in a container, pass the GPU devices in)',
  ],
  [
    ['no_gpu', 'no_devices'],
    'check that the GPU is bound to the nvidia driver (lspci -k) and visible here',
  ],
  [['timeout'], 'a GPU may be hung: check dmesg for Xid errors'],
];

function fixFor(
  attempts: readonly SourceAttempt[],
  context: FailureContext,
): string {
  const kinds = new Set(attempts.map((a) => a.failure.kind));
  const fix = FIXES.find(([match]) => match.some((k) => kinds.has(k)));
  if (fix) return fix[1];
  const missing = [
    'library_missing',
    'library_incompatible',
    'smi_not_runnable',
  ];
  if (missing.some((k) => kinds.has(k))) return driverFix(context);
  return 'run nvidia-smi by hand to see why';
}

/** Install the driver; name the path settings when they were changed. */
function driverFix(context: FailureContext): string {
  const settings = context.pathSettings;
  const customPaths =
    context.nvmlLibraryPath !== DEFAULT_NVML_LIBRARY_PATH ||
    context.nvidiaSmiPath !== DEFAULT_NVIDIA_SMI_PATH;
  if (customPaths && settings) {
    return `check ${settings.nvml} and ${settings.nvidiaSmi}, or install the NVIDIA driver, or ${DEMO_HINT}`;
  }
  return `install the NVIDIA driver, or ${DEMO_HINT}`;
}
