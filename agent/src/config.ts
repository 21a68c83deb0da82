/**
 * The agent's configuration file: YAML (or JSON) with one section per part
 * of the agent. Each section is validated by its own parser, so every error
 * names the field, the rule and the value that came.
 */
import os from 'node:os';
import path from 'node:path';
import { ConfigNode, readConfigFile } from '../../shared/src/config.ts';
import type { Fs } from '../../shared/src/fs.ts';
import { parseSamplingConfig } from './gpu/sampling-config.ts';
import type { SamplingConfig } from './gpu/sampling-config.ts';
import { parseGuardConfig } from './guard/guard-config.ts';
import type { GuardConfig } from './guard/guard-config.ts';
import { parseLinkConfig } from './link/link-config.ts';
import type { LinkConfig } from './link/link-config.ts';
import { parseOllamaConfig } from './ollama/ollama-config.ts';
import type { OllamaConfig } from './ollama/ollama-config.ts';

/** Default directory for the outbox spill, sequence numbers and audit log. */
export const DEFAULT_STATE_DIR = '/var/lib/gpuwarden-agent';

/** The whole agent configuration, validated. */
export interface AgentConfig {
  /** Node name the collector knows this host by; default the hostname. */
  node: string;
  /** Directory for durable agent state (outbox, seq, audit log). */
  stateDir: string;
  /** `debug`, `info` (default), `warn`, `error`. */
  logLevel: string;
  sampling: SamplingConfig;
  guard: GuardConfig;
  ollama: OllamaConfig;
  /** `null` when no collector is configured (the agent runs standalone). */
  link: LinkConfig | null;
}

/**
 * Validates a parsed config object. Relative paths in it are resolved
 * against `baseDir` (the config file's folder).
 */
export function parseAgentConfig(
  data: unknown,
  source: string,
  baseDir: string,
): AgentConfig {
  const root = new ConfigNode(data, '', source);
  const node = root.string('node', os.hostname());
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(node)) {
    root.fail(
      'node',
      'must be a host-like name (letters, digits, . _ -)',
      node,
    );
  }
  const stateDir = path.resolve(
    baseDir,
    root.string('stateDir', DEFAULT_STATE_DIR),
  );
  const logLevel = root.oneOf(
    'logLevel',
    ['debug', 'info', 'warn', 'error'],
    'info',
  );

  const config: AgentConfig = {
    node,
    stateDir,
    logLevel,
    sampling: parseSamplingConfig(root.child('sampling')),
    guard: parseGuardConfig(root.child('guard')),
    ollama: parseOllamaConfig(root.child('ollama')),
    link: root.has('collector')
      ? parseLinkConfig(root.child('collector'), baseDir)
      : (root.raw('collector'), null),
  };
  root.done();
  return config;
}

/** Reads and validates the agent config file; throws ConfigError. */
export async function loadAgentConfig(
  file: string,
  fs: Fs,
): Promise<AgentConfig> {
  const read = await readConfigFile(file, fs);
  return parseAgentConfig(read.data, read.source, read.baseDir);
}
