/**
 * `gpuwarden-agent check --config F [--json]`: one snapshot and what the
 * guard would do with it now, with the reason for every process. Changes
 * nothing: no signal, no hook, no audit line.
 */
import os from 'node:os';
import type { CliCommand, CliIo } from '../../../shared/src/cli.ts';
import { parseFlags } from '../../../shared/src/cli.ts';
import { createSystemClock } from '../../../shared/src/clock.ts';
import type { Clock } from '../../../shared/src/clock.ts';
import { UsageError } from '../../../shared/src/errors.ts';
import { createExec } from '../../../shared/src/exec.ts';
import type { Exec } from '../../../shared/src/exec.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { Snapshot } from '../../../shared/src/snapshot.ts';
import { loadAgentConfig } from '../config.ts';
import type { AgentConfig } from '../config.ts';
import { createSampler } from '../gpu/sampler.ts';
import { samplerOptionsFrom } from '../gpu/sampling-config.ts';
import { checkReport, renderCheck } from '../guard/check-report.ts';
import { Guard } from '../guard/guard.ts';
import { NO_HARM_EVIDENCE } from '../guard/harm.ts';

/**
 * The parts of the agent config `check` uses. The whole file is validated
 * as `run` validates it ({@link loadAgentConfig}), unknown keys included.
 */
export type CheckConfig = Pick<AgentConfig, 'node' | 'sampling' | 'guard'>;

/** Collaborators of the `check` command. */
export interface CheckCommandDeps {
  clock: Clock;
  exec: Exec;
  fs: Fs;
  logger: Logger;
  hostname: () => string;
  /** gpuwarden's pid and parent pid (never chosen). */
  self: { pid: number; ppid: number };
  /** Loads and validates the whole config; default {@link loadAgentConfig}. */
  loadConfig?: (file: string, fs: Fs) => Promise<CheckConfig>;
  /** One snapshot; default the sampler the config describes. */
  sample?: (config: CheckConfig) => Promise<Snapshot>;
}

const USAGE = 'gpuwarden-agent check --config FILE [--json]';

const FLAGS = {
  config: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** The real collaborators. */
export function realCheckDeps(): CheckCommandDeps {
  return {
    clock: createSystemClock(),
    exec: createExec(),
    fs: createNodeFs(),
    logger: createSilentLogger(),
    hostname: () => os.hostname(),
    self: { pid: process.pid, ppid: process.ppid },
  };
}

/** Builds the `check` command. */
export function createCheckCommand(
  deps: CheckCommandDeps = realCheckDeps(),
): CliCommand {
  return {
    summary: 'one snapshot and what the guard would do now, changing nothing',
    usage: USAGE,
    run: (args, io) => runCheck(args, io, deps),
  };
}

async function runCheck(
  args: string[],
  io: CliIo,
  deps: CheckCommandDeps,
): Promise<number> {
  const { values } = parseFlags(args, FLAGS);
  if (values.config === undefined) {
    throw new UsageError('--config FILE is required; see --help');
  }
  const config = await (deps.loadConfig ?? loadAgentConfig)(
    values.config,
    deps.fs,
  );
  const snapshot = await (deps.sample ?? sampleWith(deps))(config);
  const killSwitch = await deps.fs.exists(config.guard.killSwitchFile);

  const guard = new Guard(config.guard, { self: deps.self });
  const decisions = config.guard.reservations.flatMap((r) => {
    const gpu = snapshot.gpus.find((g) =>
      r.gpuUuid !== null ? g.uuid === r.gpuUuid : g.index === r.gpuIndex,
    );
    const input = {
      snapshot,
      harm: NO_HARM_EVIDENCE,
      nowMs: Date.parse(snapshot.takenAt),
    };
    const d = gpu ? guard.replan(input, gpu.uuid) : null;
    return d ? [d] : [];
  });
  const report = checkReport(snapshot, config.guard, decisions, killSwitch);
  io.stdout(
    values.json ? `${JSON.stringify(report, null, 2)}\n` : renderCheck(report),
  );
  return 0;
}

function sampleWith(deps: CheckCommandDeps) {
  return async (config: CheckConfig): Promise<Snapshot> => {
    const sampler = createSampler(
      samplerOptionsFrom(config.node, config.sampling),
      deps,
    );
    try {
      return await sampler.sampleOnce();
    } finally {
      await sampler.close();
    }
  };
}
