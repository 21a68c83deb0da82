/**
 * Test harness for the collector service: a temp data dir, a config with
 * port-0 listens and 1-second buckets, an agent token made the way
 * `gpuwarden-collector token create` makes it, and the real agent link
 * client to drive the service.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLinkClient } from '../../../agent/src/link/link-client.ts';
import type { LinkClient } from '../../../agent/src/link/link-client.ts';
import { parseLinkConfig } from '../../../agent/src/link/link-config.ts';
import { parseCollectorConfig } from '../../../collector/src/config.ts';
import type { CollectorConfig } from '../../../collector/src/config.ts';
import { tokenCommand } from '../../../collector/src/ingest/token-command.ts';
import { createSystemClock } from '../../../shared/src/clock.ts';
import { ConfigNode } from '../../../shared/src/config.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import type { SliEvent } from '../../../shared/src/messages.ts';
import { LATENCY_BOUNDS_MS } from '../../../shared/src/messages.ts';

/** The web token the harness writes to `web.tokenFile`. */
export const WEB_TOKEN = 'run-test-web-token';

/** A temp directory with a collector config and an agent token. */
export interface ServiceFixture {
  dir: string;
  dataDir: string;
  agentTokenFile: string;
  config: CollectorConfig;
  /** The raw config object, to write variants of it. */
  raw: Record<string, unknown>;
  remove(): Promise<void>;
}

/** Creates the fixture; `overrides` replace top-level config sections. */
export async function createServiceFixture(
  overrides: Record<string, unknown> = {},
): Promise<ServiceFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gw-run-'));
  const dataDir = path.join(dir, 'data');
  const agentTokenFile = path.join(dir, 'agent', 'jasper.token');
  const webTokenFile = path.join(dir, 'web.token');
  await writeFile(webTokenFile, `${WEB_TOKEN}\n`);
  await createAgentToken(path.join(dataDir, 'agent-tokens'), agentTokenFile);
  const raw = {
    dataDir,
    ingest: { listen: '127.0.0.1:0' },
    web: { listen: '127.0.0.1:0', tokenFile: webTokenFile },
    slos: [fastSlo()],
    incidents: { holdPeriod: '1m' },
    ...overrides,
  };
  return {
    dir,
    dataDir,
    agentTokenFile,
    config: parseCollectorConfig(raw, 'test config', dir),
    raw,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * `ollama_availability` with 1 s buckets and a 30 s / 10 s high-burn rule:
 * events of the last 30 s stay in the short window long enough for a
 * slow test machine to deliver and evaluate them.
 */
function fastSlo(): Record<string, unknown> {
  return {
    name: 'ollama_availability',
    bucketWidth: '1s',
    period: '1h',
    noDataAfter: '30s',
    rules: [
      {
        name: 'slo_high_burn',
        severity: 'SEV2',
        burnRate: 3,
        longWindow: '30s',
        shortWindow: '10s',
      },
    ],
  };
}

async function createAgentToken(tokensFile: string, out: string) {
  const io = { stdout: () => undefined, stderr: () => undefined };
  const args = ['create', '--node', 'jasper', '--tokens-file', tokensFile];
  const code = await tokenCommand().run([...args, '--out', out], io);
  if (code !== 0) throw new Error(`token create exited ${code}`);
}

/** The real agent link client for node `jasper`, not started. */
export function createJasperLink(
  fixture: ServiceFixture,
  ingestAddress: string,
): LinkClient {
  const config = parseLinkConfig(
    new ConfigNode(
      { address: ingestAddress, tokenFile: fixture.agentTokenFile },
      'collector',
      'test',
    ),
  );
  return createLinkClient(
    {
      node: 'jasper',
      agentVersion: '0.1.0',
      stateDir: path.join(fixture.dir, 'agent'),
      config,
    },
    {
      clock: createSystemClock(),
      logger: createSilentLogger(),
      fs: createNodeFs(),
      random: () => 0,
    },
  );
}

/**
 * One second of Ollama requests ending at `endMs`: `total` requests, all
 * successful, each `latencyMs` long.
 */
export function sliSecond(
  endMs: number,
  total: number,
  latencyMs: number,
): SliEvent {
  const slot = LATENCY_BOUNDS_MS.findIndex((bound) => latencyMs <= bound);
  const index = slot === -1 ? LATENCY_BOUNDS_MS.length : slot;
  const latencyCounts = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  latencyCounts[index] = total;
  return {
    source: 'requests',
    workload: 'ollama',
    model: 'qwen2.5:32b',
    intervalStartMs: endMs - 1000,
    intervalEndMs: endMs,
    total,
    failed: 0,
    latencyCounts,
  };
}

/** Polls `read` every 50 ms until it returns non-null; fails after `limitMs`. */
export async function eventually<T>(
  what: string,
  read: () => Promise<T | null>,
  limitMs = 8000,
): Promise<T> {
  const clock = createSystemClock();
  const deadline = clock.monotonicMs() + limitMs;
  for (;;) {
    const value = await read();
    if (value !== null) return value;
    if (clock.monotonicMs() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await clock.sleep(50);
  }
}
