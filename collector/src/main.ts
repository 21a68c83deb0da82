/**
 * Composition root of `gpuwarden-collector`: the only place that reads
 * `process.env` and wires real adapters into the commands.
 */
import { logVerbosity, setLogVerbosity } from '@grpc/grpc-js';
import { runCli } from '../../shared/src/cli.ts';
import type { CliCommand } from '../../shared/src/cli.ts';
import { readVersion } from '../../shared/src/version.ts';
import { incidentsCommand } from './incidents/incidents-cli.ts';
import { replayCommand } from './replay/replay-command.ts';
import { runCommand } from './run/run-command.ts';
import { tokenCommand } from './ingest/token-command.ts';

// gRPC's own diagnostics would print raw lines on stderr; gpuwarden reports
// every link and ingest failure itself, in one line that says what to do.
setLogVerbosity(logVerbosity.NONE);

const commands: Record<string, CliCommand> = {};
commands.run = runCommand();
commands.replay = replayCommand();
commands.incidents = incidentsCommand();
commands.token = tokenCommand();

/** Runs the collector CLI with `argv` (without node and script). */
export function main(argv: string[]): Promise<number> {
  return runCli(
    {
      program: 'gpuwarden-collector',
      version: readVersion(),
      description: 'SLO burn rates, incidents and postmortems for GPU hosts',
      commands,
    },
    argv,
  );
}
