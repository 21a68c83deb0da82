/**
 * Classifies what nvidia-smi prints instead of data (driver not loaded,
 * driver/library mismatch, no GPU, GPU lost, no permission, …) into a
 * {@link SourceFailure} with a hint, so an error text is never parsed as
 * data. nvidia-smi writes these on stdout and exits with the NVML code
 * (9, 18, 4, 12, 15) or 255; the text decides where the status is unknown
 * (a saved file) or generic. Pure.
 */
import type { SourceFailure } from './source.ts';

interface ErrorPattern {
  pattern: RegExp;
  /** Exit statuses nvidia-smi uses for this error. */
  exitCodes: readonly number[];
  kind: string;
  retryable: boolean;
  hint: string;
}

const PATTERNS: readonly ErrorPattern[] = [
  {
    pattern: /couldn't communicate with the NVIDIA driver|driver not loaded/i,
    exitCodes: [9],
    kind: 'driver_not_loaded',
    retryable: true,
    hint: 'load the kernel module (modprobe nvidia) and check dmesg; gpuwarden keeps retrying',
  },
  {
    pattern: /Driver\/library version mismatch/i,
    exitCodes: [18],
    kind: 'driver_mismatch',
    retryable: true,
    hint: 'the driver was upgraded but the old kernel module is loaded: reboot or reload the nvidia modules',
  },
  {
    pattern: /couldn't find libnvidia-ml|NVML Shared Library Not Found/i,
    exitCodes: [12],
    kind: 'library_missing',
    retryable: false,
    hint: 'install the NVIDIA driver user-space libraries (libnvidia-ml.so.1)',
  },
  {
    pattern: /Insufficient Permissions|No permission/i,
    exitCodes: [4],
    kind: 'no_permission',
    retryable: false,
    hint: 'run the agent as a user that can open /dev/nvidia* (or give the container the GPU devices)',
  },
  {
    pattern:
      /GPU is lost|fallen off the bus|Unable to determine the device handle/i,
    exitCodes: [15],
    kind: 'gpu_lost',
    retryable: false,
    hint: 'a GPU stopped answering: check dmesg for Xid errors; it usually needs a GPU reset or a reboot',
  },
  {
    pattern: /No devices were found|No supported GPUs were found/i,
    exitCodes: [6],
    kind: 'no_devices',
    retryable: false,
    hint: 'check that the GPU is bound to the nvidia driver (lspci -k) and visible in this container',
  },
  {
    pattern: /Failed to initialize NVML/i,
    exitCodes: [],
    kind: 'nvml_init_failed',
    retryable: true,
    hint: 'check the driver installation and dmesg',
  },
];

/**
 * Classifies an nvidia-smi run. Returns `null` when it succeeded (exit 0,
 * or `null` for a saved file) and the text is not a known error message;
 * otherwise the failure, with the first line of the output in its message.
 * A non-zero exit is always a failure, known text or not.
 */
export function classifySmiError(
  exitCode: number | null,
  stdout: string,
  stderr: string,
): SourceFailure | null {
  const text = `${stdout}\n${stderr}`;
  const known = matchPattern(text, exitCode);
  if (known) return failureOf(known, text, exitCode);
  if (exitCode === 0 || exitCode === null) return null;
  return {
    kind: 'smi_failed',
    message: `nvidia-smi exited with status ${exitCode}${quoteFirstLine(text)}; run it by hand to see why`,
    retryable: true,
  };
}

/**
 * True when a text looks like an nvidia-smi error message rather than
 * data: short and matching a known error.
 */
export function isSmiErrorText(text: string): boolean {
  return text.length < 4096 && matchPattern(text, null) !== null;
}

/**
 * After a failed exit the whole text is searched; after a clean one (or
 * for a file) only its first line, and never a `[...]` cell, so a data
 * cell such as `[Insufficient Permissions]` is not taken for an error.
 */
function matchPattern(
  text: string,
  exitCode: number | null,
): ErrorPattern | null {
  const failed = exitCode !== null && exitCode !== 0;
  const searched = failed ? text : firstLine(text);
  if (!failed && (searched.startsWith('[') || searched.startsWith('<'))) {
    return null;
  }
  const byText = PATTERNS.find((p) => p.pattern.test(searched));
  if (byText || !failed) return byText ?? null;
  return PATTERNS.find((p) => p.exitCodes.includes(exitCode)) ?? null;
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}

function failureOf(
  known: ErrorPattern,
  text: string,
  exitCode: number | null,
): SourceFailure {
  const status = exitCode === null ? '' : ` (exit ${exitCode})`;
  return {
    kind: known.kind,
    message: `nvidia-smi failed${status}${quoteFirstLine(text)}: ${known.hint}`,
    retryable: known.retryable,
  };
}

function quoteFirstLine(text: string): string {
  const line = firstLine(text);
  if (!line) return '';
  const short = line.length > 160 ? `${line.slice(0, 157)}...` : line;
  return `: "${short}"`;
}
