/**
 * `gpuwarden-agent sample`: one snapshot of this host's GPUs, as a table
 * for people or as JSON (DESIGN §3.2) for scripts. `--from FILE` reads a
 * saved nvidia-smi output instead of asking the GPU.
 */
import os from 'node:os';
import type { CliCommand, CliIo } from '../../../shared/src/cli.ts';
import { parseFlags } from '../../../shared/src/cli.ts';
import { createSystemClock } from '../../../shared/src/clock.ts';
import type { Clock } from '../../../shared/src/clock.ts';
import { GpuwardenError, UsageError } from '../../../shared/src/errors.ts';
import { createExec } from '../../../shared/src/exec.ts';
import type { Exec } from '../../../shared/src/exec.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { Snapshot } from '../../../shared/src/snapshot.ts';
import { renderSampleTable } from '../gpu/sample-table.ts';
import { createSampler } from '../gpu/sampler.ts';
import { FLAG_PATH_SETTINGS } from '../gpu/sampler-failure.ts';
import { buildSnapshot } from '../gpu/sampler-snapshot.ts';
import type { SourceFactory } from '../gpu/sampler-sources.ts';
import { SOURCE_CHOICES } from '../gpu/sampling-config.ts';
import type { SourceChoice } from '../gpu/sampling-config.ts';

/** Collaborators of the `sample` command. */
export interface SampleCommandDeps {
  clock: Clock;
  exec: Exec;
  fs: Fs;
  logger: Logger;
  /** This host's name, written into the snapshot. */
  hostname: () => string;
  /** Root of the proc file system; default `/proc`. */
  procRoot?: string;
  /** User database for names; default `/etc/passwd`. */
  passwdPath?: string;
  /** Makes GPU sources; default the real NVML and nvidia-smi sources. */
  createSource?: SourceFactory;
}

const USAGE =
  'gpuwarden-agent sample [--json] [--source auto|nvml|nvidia-smi] [--nvidia-smi PATH] [--nvml-lib PATH] [--from FILE]';

const FLAGS = {
  json: { type: 'boolean' },
  source: { type: 'string' },
  'nvidia-smi': { type: 'string' },
  'nvml-lib': { type: 'string' },
  from: { type: 'string' },
} as const;

/** The real collaborators: system clock, execa, node fs, no logging. */
export function realSampleDeps(): SampleCommandDeps {
  return {
    clock: createSystemClock(),
    exec: createExec(),
    fs: createNodeFs(),
    logger: createSilentLogger(),
    hostname: () => os.hostname(),
  };
}

/** Builds the `sample` command. */
export function createSampleCommand(
  deps: SampleCommandDeps = realSampleDeps(),
): CliCommand {
  return {
    summary: 'one snapshot of the GPUs and their processes, table or JSON',
    usage: USAGE,
    run: (args, io) => runSample(args, io, deps),
  };
}

async function runSample(
  args: string[],
  io: CliIo,
  deps: SampleCommandDeps,
): Promise<number> {
  const { values } = parseFlags(args, FLAGS, false, {
    from: 'put both CSVs in one file, see docs/nvidia-smi.md',
  });
  const source = parseSource(values.source);
  const conflicting = ['source', 'nvidia-smi', 'nvml-lib'].filter(
    (name) => values[name as keyof typeof values] !== undefined,
  );
  if (values.from !== undefined && conflicting.length > 0) {
    throw new UsageError(
      `--from reads a saved output and cannot be combined with --${conflicting[0]}; drop one of them`,
    );
  }

  const snapshot =
    values.from === undefined
      ? await sampleLive(source, values, deps)
      : await sampleSaved(values.from, deps);
  io.stdout(
    values.json
      ? `${JSON.stringify(snapshot, null, 2)}\n`
      : renderSampleTable(snapshot),
  );
  return 0;
}

function parseSource(value: string | undefined): SourceChoice {
  if (value === undefined) return 'auto';
  if (!SOURCE_CHOICES.includes(value as SourceChoice)) {
    throw new UsageError(
      `--source must be one of ${SOURCE_CHOICES.join(', ')}, got "${value}"`,
    );
  }
  return value as SourceChoice;
}

async function sampleLive(
  source: SourceChoice,
  values: { 'nvidia-smi'?: string; 'nvml-lib'?: string },
  deps: SampleCommandDeps,
): Promise<Snapshot> {
  const sampler = createSampler(
    {
      node: deps.hostname(),
      source,
      nvidiaSmiPath: values['nvidia-smi'],
      nvmlLibraryPath: values['nvml-lib'],
      passwdPath: deps.passwdPath,
      pathSettings: FLAG_PATH_SETTINGS,
    },
    deps,
  );
  try {
    const result = await sampler.trySample();
    if (result.ok) return result.value;
    throw new GpuwardenError('SOURCE_UNAVAILABLE', result.error.message, {
      cause: result.error,
    });
  } finally {
    await sampler.close();
  }
}

async function sampleSaved(file: string, deps: SampleCommandDeps) {
  let bytes: Buffer;
  try {
    bytes = await deps.fs.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new GpuwardenError(
      'INPUT_INVALID',
      `cannot read ${file} (${code}); check the --from path`,
    );
  }

  // Imported here so a live sample never loads the XML and CSV parsers.
  const { parseSavedSmiOutput } = await import('../gpu/smi-saved.ts');
  const parsed = parseSavedSmiOutput(bytes);
  if (!parsed.ok) {
    throw new GpuwardenError('INPUT_INVALID', parsed.error.message, {
      cause: parsed.error,
    });
  }
  return buildSnapshot({
    node: deps.hostname(),
    takenAtMs: deps.clock.nowMs(),
    sample: parsed.value,
    procs: null,
  });
}
