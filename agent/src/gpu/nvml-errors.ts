/**
 * NVML return codes (`nvmlReturn_t`, research/nvml.md §5) and what they mean
 * for gpuwarden: the kind of a whole-source failure (init, count) and the
 * kind of a per-GPU or per-field problem. Pure; no I/O.
 */
import type { SourceFailure } from './source.ts';

/** The codes gpuwarden branches on. Values are stable across drivers. */
export const NVML = {
  SUCCESS: 0,
  ERROR_UNINITIALIZED: 1,
  ERROR_INVALID_ARGUMENT: 2,
  ERROR_NOT_SUPPORTED: 3,
  ERROR_NO_PERMISSION: 4,
  ERROR_NOT_FOUND: 6,
  ERROR_INSUFFICIENT_SIZE: 7,
  ERROR_DRIVER_NOT_LOADED: 9,
  ERROR_LIBRARY_NOT_FOUND: 12,
  ERROR_FUNCTION_NOT_FOUND: 13,
  ERROR_GPU_IS_LOST: 15,
  ERROR_LIB_RM_VERSION_MISMATCH: 18,
  ERROR_ARGUMENT_VERSION_MISMATCH: 25,
  ERROR_DEPRECATED: 26,
  ERROR_GPU_NOT_FOUND: 28,
  ERROR_UNKNOWN: 999,
} as const;

const NAMES: readonly string[] = [
  'NVML_SUCCESS',
  'NVML_ERROR_UNINITIALIZED',
  'NVML_ERROR_INVALID_ARGUMENT',
  'NVML_ERROR_NOT_SUPPORTED',
  'NVML_ERROR_NO_PERMISSION',
  'NVML_ERROR_ALREADY_INITIALIZED',
  'NVML_ERROR_NOT_FOUND',
  'NVML_ERROR_INSUFFICIENT_SIZE',
  'NVML_ERROR_INSUFFICIENT_POWER',
  'NVML_ERROR_DRIVER_NOT_LOADED',
  'NVML_ERROR_TIMEOUT',
  'NVML_ERROR_IRQ_ISSUE',
  'NVML_ERROR_LIBRARY_NOT_FOUND',
  'NVML_ERROR_FUNCTION_NOT_FOUND',
  'NVML_ERROR_CORRUPTED_INFOROM',
  'NVML_ERROR_GPU_IS_LOST',
  'NVML_ERROR_RESET_REQUIRED',
  'NVML_ERROR_OPERATING_SYSTEM',
  'NVML_ERROR_LIB_RM_VERSION_MISMATCH',
  'NVML_ERROR_IN_USE',
  'NVML_ERROR_MEMORY',
  'NVML_ERROR_NO_DATA',
  'NVML_ERROR_VGPU_ECC_NOT_SUPPORTED',
  'NVML_ERROR_INSUFFICIENT_RESOURCES',
  'NVML_ERROR_FREQ_NOT_SUPPORTED',
  'NVML_ERROR_ARGUMENT_VERSION_MISMATCH',
  'NVML_ERROR_DEPRECATED',
  'NVML_ERROR_NOT_READY',
  'NVML_ERROR_GPU_NOT_FOUND',
  'NVML_ERROR_INVALID_STATE',
  'NVML_ERROR_RESET_TYPE_NOT_SUPPORTED',
];

/** The symbolic name of a code; codes from newer drivers get a generic one. */
export function nvmlErrorName(code: number): string {
  if (code === NVML.ERROR_UNKNOWN) return 'NVML_ERROR_UNKNOWN';
  return NAMES[code] ?? `NVML_ERROR_${code}`;
}

/** Codes after which the whole library must be initialised again. */
export function needsReinit(code: number): boolean {
  return (
    code === NVML.ERROR_UNINITIALIZED ||
    code === NVML.ERROR_DRIVER_NOT_LOADED ||
    code === NVML.ERROR_LIB_RM_VERSION_MISMATCH
  );
}

interface InitClass {
  kind: string;
  hint: string;
}

const INIT_CLASSES: Record<number, InitClass> = {
  [NVML.ERROR_DRIVER_NOT_LOADED]: {
    kind: 'driver_not_loaded',
    hint: 'the NVIDIA kernel module is not loaded yet; gpuwarden retries, check `lsmod | grep nvidia` or use --source nvidia-smi',
  },
  [NVML.ERROR_NO_PERMISSION]: {
    kind: 'no_permission',
    hint: 'this user may not open /dev/nvidia*; run the agent with access to the GPU devices',
  },
  [NVML.ERROR_LIB_RM_VERSION_MISMATCH]: {
    kind: 'driver_mismatch',
    hint: 'the NVIDIA library and kernel module versions differ (driver upgraded without reboot); reboot or reload the nvidia module',
  },
  [NVML.ERROR_LIBRARY_NOT_FOUND]: {
    kind: 'library_missing',
    hint: 'install the NVIDIA driver or use --source nvidia-smi',
  },
  [NVML.ERROR_GPU_NOT_FOUND]: {
    kind: 'no_gpu',
    hint: 'no supported GPU was found',
  },
};

/**
 * Classifies a failed `nvmlInit_v2` (or a failed device count) as a source
 * failure. Every init failure is retryable: a driver that was not loaded at
 * boot, or a mismatch fixed by a module reload, comes up later.
 */
export function classifyInitFailure(
  call: string,
  code: number,
  text: string,
  retryInMs: number,
): SourceFailure {
  const known = INIT_CLASSES[code] ?? {
    kind: 'init_failed',
    hint: 'NVML could not start; see the driver logs (dmesg)',
  };
  return {
    kind: known.kind,
    message: `NVML ${call} failed: ${text} (${nvmlErrorName(code)}); ${known.hint}; retrying in ${Math.round(retryInMs / 1000)} s`,
    retryable: true,
  };
}

/** The problem kind of a failed per-GPU or per-field call. */
export function problemKindFor(code: number): string {
  switch (code) {
    case NVML.ERROR_NOT_SUPPORTED:
    case NVML.ERROR_FUNCTION_NOT_FOUND:
      return 'field_unsupported';
    case NVML.ERROR_NO_PERMISSION:
      return 'no_permission';
    case NVML.ERROR_GPU_IS_LOST:
      return 'gpu_lost';
    case NVML.ERROR_DEPRECATED:
      return 'field_deprecated';
    default:
      return 'nvml_error';
  }
}
