/**
 * `gpuwarden-collector replay FILE [--config F] [--out DIR] [--json]`:
 * runs a recorded stream through the engine and the incident manager on a
 * simulated clock, writes incidents and postmortems under DIR and prints a
 * summary.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { CliCommand } from '../../../shared/src/cli.ts';
import { parseFlags } from '../../../shared/src/cli.ts';
import type { Clock } from '../../../shared/src/clock.ts';
import { readConfigFile } from '../../../shared/src/config.ts';
import { GpuwardenError, UsageError } from '../../../shared/src/errors.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import { createLogger } from '../../../shared/src/logger.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import { createIncidentManager } from '../incidents/index.ts';
import type { IncidentManager, IncidentsConfig } from '../incidents/index.ts';
import { parseCollectorConfig } from '../config.ts';
import { defaultSlo } from '../slo/slo-config.ts';
import type { SloDefinition } from '../slo/slo-config.ts';
import { parseAgentStream } from './read-stream.ts';
import { runReplay } from './replay.ts';
import { formatReplaySummary } from './replay-summary.ts';
import type { ReplayIncidentRow, ReplaySummary } from './replay-summary.ts';

const USAGE =
  'gpuwarden-collector replay FILE [--config F] [--out DIR] [--json]';

/** Collaborators of the command. */
export interface ReplayCommandDeps {
  fs: Fs;
  logger: Logger;
}

/** The real file system, and warnings and errors on standard error. */
export function realReplayDeps(): ReplayCommandDeps {
  return { fs: createNodeFs(), logger: createLogger({ level: 'warn' }) };
}

/** The `replay` subcommand. */
export function replayCommand(
  deps: ReplayCommandDeps = realReplayDeps(),
): CliCommand {
  return {
    summary: 'a recorded agent stream through the engine on a simulated clock',
    usage: USAGE,
    run: async (args, io) => {
      const { values, positionals } = parseFlags(
        args,
        {
          config: { type: 'string' },
          out: { type: 'string' },
          json: { type: 'boolean' },
        },
        true,
      );
      if (positionals.length !== 1) {
        throw new UsageError(
          `give exactly one recorded stream FILE; usage: ${USAGE}`,
        );
      }
      const file = positionals[0]!;
      const outDir = values.out ?? defaultOutDir(file);
      const summary = await replayFile(
        { file, configFile: values.config ?? null, outDir },
        deps,
      );
      io.stdout(
        values.json
          ? `${JSON.stringify(summary, null, 2)}\n`
          : formatReplaySummary(summary),
      );
      return 0;
    },
  };
}

/** Where results go when `--out` is not given. */
export function defaultOutDir(file: string): string {
  const name = path.basename(file).replace(/\.[^.]*$/, '');
  return path.join('data', 'replay', name);
}

/** Replays `file` into `outDir`; throws on bad input or a used DIR. */
export async function replayFile(
  options: { file: string; configFile: string | null; outDir: string },
  deps: ReplayCommandDeps,
): Promise<ReplaySummary> {
  const config = await readReplayConfig(deps.fs, options.configFile);
  const text = await readInput(deps.fs, options.file);
  const messages = parseAgentStream(text, options.file);
  await requireEmptyDir(deps.fs, options.outDir);

  const idSuffix = seededSuffixes(text);
  const run = await runReplay(
    { messages, slos: config.slos },
    {
      logger: deps.logger,
      fs: deps.fs,
      createIncidents: (clock: Clock) =>
        createIncidentManager(incidentOptions(options.outDir, config), {
          clock,
          logger: deps.logger,
          fs: deps.fs,
          idSuffix,
        }),
    },
  );
  const rows = await incidentRows(run.incidents);
  await run.incidents.close();
  return {
    file: options.file,
    outDir: options.outDir,
    messages: run.messageCount,
    nodes: run.nodes,
    firstAt: new Date(run.firstMs).toISOString(),
    lastAt: new Date(run.lastMs).toISOString(),
    evaluations: run.evaluations,
    incidents: rows,
  };
}

interface ReplayConfig {
  slos: SloDefinition[];
  incidents: IncidentsConfig | null;
}

/**
 * Reads the replay's config through the collector's own config parser, so
 * a config file is validated exactly as `run` validates it; only its SLOs
 * and incident settings matter to a replay.
 */
async function readReplayConfig(
  fs: Fs,
  configFile: string | null,
): Promise<ReplayConfig> {
  if (configFile === null) return { slos: [defaultSlo()], incidents: null };
  const read = await readConfigFile(configFile, fs);
  const config = parseCollectorConfig(read.data, read.source, read.baseDir);
  return { slos: config.slo.slos, incidents: config.incidents };
}

function incidentOptions(dataDir: string, config: ReplayConfig) {
  const incidents = config.incidents;
  return {
    dataDir,
    latencyThresholdMs: config.slos[0]?.latencyThresholdMs ?? 2000,
    ...(incidents && {
      holdMs: incidents.holdMs,
      reopenWindowMs: incidents.reopenWindowMs,
      evidenceLookbackMs: incidents.evidenceLookbackMs,
      postmortemFooter: incidents.postmortemFooter,
    }),
  };
}

async function incidentRows(
  manager: IncidentManager,
): Promise<ReplayIncidentRow[]> {
  const rows: ReplayIncidentRow[] = [];
  for (const incident of [...manager.list()].reverse()) {
    // Writes the postmortem (again) so every incident has its file.
    await manager.postmortemMarkdown(incident.id);
    rows.push({
      id: incident.id,
      severity: incident.severity,
      status: incident.status,
      trigger: {
        rule: incident.trigger.rule,
        burnRate: incident.trigger.burnRate,
        window: incident.trigger.window,
      },
      node: incident.node,
      slo: incident.slo.name,
      openedAt: incident.openedAt,
      resolvedAt: incident.resolvedAt,
      durationSeconds: incident.durationSeconds,
      postmortemPath: manager.postmortemPath(incident.id),
    });
  }
  return rows;
}

async function readInput(fs: Fs, file: string): Promise<string> {
  try {
    return await fs.readText(file);
  } catch (error) {
    throw new GpuwardenError(
      'INPUT_INVALID',
      `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the path`,
      { cause: error },
    );
  }
}

async function requireEmptyDir(fs: Fs, dir: string): Promise<void> {
  if ((await fs.exists(dir)) && (await fs.readdir(dir)).length > 0) {
    throw new UsageError(
      `--out ${dir} already holds files; give an empty or new directory so nothing stored there is mixed or lost`,
    );
  }
}

/** Incident ID suffixes derived from the stream, so replays repeat. */
function seededSuffixes(text: string): () => string {
  const seed = createHash('sha256').update(text).digest('hex');
  let n = 0;
  return () => {
    n += 1;
    return createHash('sha256')
      .update(`${seed}:${n}`)
      .digest('hex')
      .slice(0, 4);
  };
}
