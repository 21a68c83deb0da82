/**
 * `gpuwarden-agent run --config F [--record FILE]`: the daemon. Runs until
 * SIGINT or SIGTERM, then stops cleanly (an enforcement in progress is
 * finished, the outbox is spilled to disk); a second signal exits at once.
 */
import path from 'node:path';
import type { CliCommand, CliIo } from '../../../shared/src/cli.ts';
import { parseFlags } from '../../../shared/src/cli.ts';
import { createSystemClock } from '../../../shared/src/clock.ts';
import { UsageError } from '../../../shared/src/errors.ts';
import { createExec } from '../../../shared/src/exec.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createLogger } from '../../../shared/src/logger.ts';
import { readVersion } from '../../../shared/src/version.ts';
import { loadAgentConfig } from '../config.ts';
import { createAgentRuntime } from '../runtime/agent-runtime.ts';
import { gatherHostFacts } from '../runtime/host-facts.ts';

const USAGE = 'gpuwarden-agent run --config FILE [--record FILE]';

/** The `run` command. */
export function createRunCommand(): CliCommand {
  return {
    summary: 'the daemon: sample, guard, measure Ollama, stream',
    usage: USAGE,
    run: (args, io) => runAgent(args, io),
  };
}

async function runAgent(args: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(args, {
    config: { type: 'string' },
    record: { type: 'string' },
  });
  if (!values.config)
    throw new UsageError(`--config is required; usage: ${USAGE}`);
  const fs = createNodeFs();
  const config = await loadAgentConfig(values.config, fs);
  const logger = createLogger({
    level: config.logLevel,
    base: { service: 'gpuwarden-agent', node: config.node },
  });
  const agent = createAgentRuntime(
    {
      config,
      recordFile: values.record ? path.resolve(values.record) : null,
      agentVersion: readVersion(),
      host: await gatherHostFacts(),
    },
    {
      clock: createSystemClock(),
      logger,
      exec: createExec(),
      fs,
      self: { pid: process.pid, ppid: process.ppid },
    },
  );
  await agent.start();
  io.stdout(
    `gpuwarden agent ${config.node}: guard ${config.guard.mode}, collector ${config.link?.address ?? 'none'}${values.record ? `, recording to ${values.record}` : ''}\n`,
  );
  await untilSignal();
  await agent.stop();
  return 0;
}

/** Resolves on the first SIGINT/SIGTERM; the second exits at once. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    let seen = false;
    const onSignal = (): void => {
      if (seen) process.exit(130);
      seen = true;
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
