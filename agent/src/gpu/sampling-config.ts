/**
 * The `sampling` section of the agent config: which GPU source to use, how
 * often to sample, where nvidia-smi and libnvidia-ml live, and how long one
 * nvidia-smi call may take (DESIGN §3.4).
 */
import type { ConfigNode } from '../../../shared/src/config.ts';
import type { SampleSource } from '../../../shared/src/snapshot.ts';
import type { SamplerOptions } from './sampler.ts';
import { DEFAULT_SMI_TIMEOUT_MS } from './smi-source.ts';

/** Which source the sampler uses: NVML else nvidia-smi, or one forced. */
export type SourceChoice = 'auto' | 'nvml' | 'nvidia-smi';

/** Every accepted {@link SourceChoice}, for flags and config checks. */
export const SOURCE_CHOICES: readonly SourceChoice[] = [
  'auto',
  'nvml',
  'nvidia-smi',
];

/** Sampling interval when NVML is the source in use. */
export const DEFAULT_NVML_INTERVAL_MS = 1000;

/** Sampling interval when nvidia-smi is the source in use. */
export const DEFAULT_SMI_INTERVAL_MS = 2000;

/** nvidia-smi as found on `PATH`. */
export const DEFAULT_NVIDIA_SMI_PATH = 'nvidia-smi';

/** libnvidia-ml as the dynamic loader finds it. */
export const DEFAULT_NVML_LIBRARY_PATH = 'libnvidia-ml.so.1';

/** The validated `sampling` section. */
export interface SamplingConfig {
  /** `sampling.source`; default `auto` (NVML, else nvidia-smi). */
  source: SourceChoice;
  /**
   * `sampling.interval` in milliseconds; `null` means the default of the
   * source in use (1000 for NVML, 2000 for nvidia-smi).
   */
  intervalMs: number | null;
  /** `sampling.nvidiaSmiPath`; default `nvidia-smi` on `PATH`. */
  nvidiaSmiPath: string;
  /** `sampling.nvmlLibraryPath`; default `libnvidia-ml.so.1`. */
  nvmlLibraryPath: string;
  /** `sampling.smiTimeout` in milliseconds; default 5 s. */
  smiTimeoutMs: number;
}

/**
 * Validates the `sampling` section (absent means all defaults).
 *
 * @throws ConfigError naming the field, the rule and the value that came,
 *   also for keys that are not sampling settings.
 */
export function parseSamplingConfig(node: ConfigNode): SamplingConfig {
  const source = node.oneOf('source', SOURCE_CHOICES, 'auto');
  const intervalMs = node.has('interval')
    ? node.durationMs('interval', undefined, { minMs: 100 })
    : (node.raw('interval'), null);
  const nvidiaSmiPath = node.string('nvidiaSmiPath', DEFAULT_NVIDIA_SMI_PATH);
  const nvmlLibraryPath = node.string(
    'nvmlLibraryPath',
    DEFAULT_NVML_LIBRARY_PATH,
  );
  const smiTimeoutMs = node.durationMs(
    'smiTimeout',
    `${DEFAULT_SMI_TIMEOUT_MS}ms`,
    { minMs: 100 },
  );

  node.done();
  return { source, intervalMs, nvidiaSmiPath, nvmlLibraryPath, smiTimeoutMs };
}

/** The interval to sample at with `source` in use, in milliseconds. */
export function effectiveIntervalMs(
  intervalMs: number | null,
  source: SampleSource,
): number {
  if (intervalMs !== null) return intervalMs;
  return source === 'nvml' ? DEFAULT_NVML_INTERVAL_MS : DEFAULT_SMI_INTERVAL_MS;
}

/** The sampler's options for `node` from its `sampling` config section. */
export function samplerOptionsFrom(
  node: string,
  sampling: SamplingConfig,
): SamplerOptions {
  return {
    node,
    source: sampling.source,
    intervalMs: sampling.intervalMs,
    nvidiaSmiPath: sampling.nvidiaSmiPath,
    nvmlLibraryPath: sampling.nvmlLibraryPath,
    smiTimeoutMs: sampling.smiTimeoutMs,
  };
}
