/**
 * `gpuwarden-collector run --config F`: loads the config, starts the
 * collector service, prints one line saying where it listens, and runs
 * until SIGINT or SIGTERM; the first signal stops it cleanly (exit 0), a
 * second one ends the process at once.
 */
import type { CliCommand, CliIo } from '../../../shared/src/cli.ts';
import { parseFlags } from '../../../shared/src/cli.ts';
import { createSystemClock } from '../../../shared/src/clock.ts';
import type { Clock } from '../../../shared/src/clock.ts';
import { UsageError } from '../../../shared/src/errors.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import { createLogger } from '../../../shared/src/logger.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import { loadCollectorConfig } from '../config.ts';
import { startCollectorService } from './collector-service.ts';
import type { CollectorService } from './collector-service.ts';

const USAGE = 'gpuwarden-collector run --config F';

/** Exit code when a second signal cuts the clean stop short. */
export const FORCED_EXIT_CODE = 1;

/** Collaborators of the `run` command. */
export interface RunCommandDeps {
  fs: Fs;
  clock: Clock;
  /** The root logger at the config's level (JSON lines on stderr). */
  createLogger(level: string): Logger;
  /** Calls `listener` on SIGINT and SIGTERM; returns the unsubscribe. */
  onStopSignal(listener: (signal: string) => void): () => void;
  /** Ends the process now with `code` (a second signal). */
  exitNow(code: number): void;
}

/** The real process: file system, clock, stderr logger and signals. */
export function realRunDeps(): RunCommandDeps {
  return {
    fs: createNodeFs(),
    clock: createSystemClock(),
    createLogger: (level) => createLogger({ level }),
    onStopSignal: (listener) => {
      const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
      signals.forEach((signal) => process.on(signal, listener));
      return () => signals.forEach((s) => process.off(s, listener));
    },
    exitNow: (code) => process.exit(code),
  };
}

/** The `run` subcommand. */
export function runCommand(deps: RunCommandDeps = realRunDeps()): CliCommand {
  return {
    summary: 'the collector service: gRPC ingest, SLOs, incidents, dashboard',
    usage: USAGE,
    run: async (args, io) => {
      const { values } = parseFlags(args, { config: { type: 'string' } });
      if (values.config === undefined) {
        throw new UsageError(
          `run needs --config FILE (deploy/collector.example.yaml is a start); usage: ${USAGE}`,
        );
      }
      const config = await loadCollectorConfig(values.config, deps.fs);
      const logger = deps.createLogger(config.logLevel);
      return serveUntilSignal(
        () =>
          startCollectorService(config, {
            clock: deps.clock,
            logger,
            fs: deps.fs,
          }),
        { deps, logger, io },
      );
    },
  };
}

/** The line printed on stdout once the collector listens. */
export function formatStartLine(service: CollectorService): string {
  return `gpuwarden collector: dashboard ${service.webUrl}  ingest ${service.ingestAddress}  data ${service.dataDir}\n`;
}

async function serveUntilSignal(
  start: () => Promise<CollectorService>,
  ctx: { deps: RunCommandDeps; logger: Logger; io: CliIo },
): Promise<number> {
  const { deps, logger, io } = ctx;
  let signals = 0;
  let onFirst: (signal: string) => void = () => undefined;
  const first = new Promise<string>((resolve) => (onFirst = resolve));
  const unsubscribe = deps.onStopSignal((signal) => {
    signals += 1;
    if (signals === 1) return onFirst(signal);
    logger.warn({ signal }, 'second signal: exiting without a clean stop');
    deps.exitNow(FORCED_EXIT_CODE);
  });

  try {
    const service = await start();
    io.stdout(formatStartLine(service));
    const signal = await first;
    logger.info({ signal }, 'stop signal received');
    await service.stop();
    return 0;
  } finally {
    unsubscribe();
  }
}
