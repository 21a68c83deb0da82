/**
 * Composition root of `gpuwarden-agent`: the only place that reads
 * `process.env` and wires real adapters into the commands.
 */
import { logVerbosity, setLogVerbosity } from '@grpc/grpc-js';
import { runCli } from '../../shared/src/cli.ts';
import type { CliCommand } from '../../shared/src/cli.ts';
import { readVersion } from '../../shared/src/version.ts';
import { createSampleCommand } from './cli/sample.ts';
import { createCheckCommand } from './cli/check.ts';
import { createRunCommand } from './cli/run.ts';

// gRPC's own diagnostics would print raw lines on stderr; gpuwarden reports
// every link and ingest failure itself, in one line that says what to do.
setLogVerbosity(logVerbosity.NONE);

const commands: Record<string, CliCommand> = {};
commands.run = createRunCommand();
commands.sample = createSampleCommand();
commands.check = createCheckCommand();

/** Runs the agent CLI with `argv` (without node and script); the exit code. */
export function main(argv: string[]): Promise<number> {
  return runCli(
    {
      program: 'gpuwarden-agent',
      version: readVersion(),
      description: 'samples GPU memory per process and guards a reservation',
      commands,
    },
    argv,
  );
}
