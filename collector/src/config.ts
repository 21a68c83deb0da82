/**
 * The collector's configuration file: YAML (or JSON) with one section per
 * part of the collector. Each section is validated by its own parser, so
 * every error names the field, the rule and the value that came.
 */
import path from 'node:path';
import { ConfigNode, readConfigFile } from '../../shared/src/config.ts';
import type { Fs } from '../../shared/src/fs.ts';
import { parseIncidentsConfig } from './incidents/incidents-config.ts';
import type { IncidentsConfig } from './incidents/incidents-config.ts';
import { parseIngestConfig } from './ingest/ingest-config.ts';
import type { IngestConfig } from './ingest/ingest-config.ts';
import { parseSloConfig } from './slo/slo-config.ts';
import type { SloConfig } from './slo/slo-config.ts';
import { parseWebConfig } from './web/web-config.ts';
import type { WebConfig } from './web/web-config.ts';

/** Default data directory (incidents, SLO buckets, journal, postmortems). */
export const DEFAULT_DATA_DIR = '/var/lib/gpuwarden-collector';

/** The whole collector configuration, validated. */
export interface CollectorConfig {
  /** Directory for everything the collector keeps. */
  dataDir: string;
  /** `debug`, `info` (default), `warn`, `error`. */
  logLevel: string;
  ingest: IngestConfig;
  slo: SloConfig;
  incidents: IncidentsConfig;
  web: WebConfig;
}

/**
 * Validates a parsed config object. Relative paths are resolved against
 * `baseDir` (the config file's folder, or the working directory).
 */
export function parseCollectorConfig(
  data: unknown,
  source: string,
  baseDir: string,
): CollectorConfig {
  const root = new ConfigNode(data, '', source);
  const dataDir = path.resolve(
    baseDir,
    root.string('dataDir', DEFAULT_DATA_DIR),
  );
  const config: CollectorConfig = {
    dataDir,
    logLevel: root.oneOf(
      'logLevel',
      ['debug', 'info', 'warn', 'error'],
      'info',
    ),
    ingest: parseIngestConfig(root.child('ingest')),
    slo: parseSloConfig(root),
    incidents: parseIncidentsConfig(root.child('incidents')),
    web: parseWebConfig(root.child('web')),
  };
  root.done();
  return config;
}

/** Reads and validates the collector config file; throws ConfigError. */
export async function loadCollectorConfig(
  file: string,
  fs: Fs,
): Promise<CollectorConfig> {
  const read = await readConfigFile(file, fs);
  return parseCollectorConfig(read.data, read.source, read.baseDir);
}
