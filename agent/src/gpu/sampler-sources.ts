/**
 * Builds the real GPU sources the sampler picks from: NVML through koffi
 * and nvidia-smi through exec. Each module is imported on first use only,
 * so `--source nvidia-smi` never loads koffi and a one-shot command starts
 * faster.
 */
import type { Clock } from '../../../shared/src/clock.ts';
import type { Exec } from '../../../shared/src/exec.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { SampleSource } from '../../../shared/src/snapshot.ts';
import type { GpuSource } from './source.ts';

/** Where the real sources find their programs. */
export interface SourcePaths {
  nvidiaSmiPath: string;
  nvmlLibraryPath: string;
  /** Timeout of one nvidia-smi call, in ms. */
  smiTimeoutMs: number;
}

/** Collaborators of the real sources. */
export interface SourceFactoryDeps {
  clock: Clock;
  logger: Logger;
  exec: Exec;
}

/** Creates the source of one kind (once per sampler and kind). */
export type SourceFactory = (
  kind: SampleSource,
) => GpuSource | Promise<GpuSource>;

/** The factory of the real NVML and nvidia-smi sources. */
export function createRealSourceFactory(
  paths: SourcePaths,
  deps: SourceFactoryDeps,
): SourceFactory {
  return async (kind) => {
    if (kind === 'nvml') {
      const { createNvmlSource } = await import('./nvml-source.ts');
      return createNvmlSource(
        { libraryPath: paths.nvmlLibraryPath },
        { clock: deps.clock, logger: deps.logger },
      );
    }
    const { createSmiSource } = await import('./smi-source.ts');
    return createSmiSource(
      { nvidiaSmiPath: paths.nvidiaSmiPath, timeoutMs: paths.smiTimeoutMs },
      { exec: deps.exec, clock: deps.clock, logger: deps.logger },
    );
  };
}
