/**
 * The live demo's recording (`test/fixtures/jasper/live-demo-stream.jsonl`)
 * replayed through the collector engine and the incident manager with the
 * demo's collector settings: 2-minute SLO windows on 2-second buckets, a
 * 30-second hold, a 5-minute evidence lookback.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createIncidentManager } from '../../../../collector/src/incidents/manager.ts';
import type { IncidentManager } from '../../../../collector/src/incidents/manager-types.ts';
import type { Incident } from '../../../../collector/src/incidents/incident.ts';
import { parseAgentStream } from '../../../../collector/src/replay/read-stream.ts';
import { runReplay } from '../../../../collector/src/replay/replay.ts';
import { parseSloConfig } from '../../../../collector/src/slo/slo-config.ts';
import { ConfigNode, parseConfigText } from '../../../../shared/src/config.ts';
import { createNodeFs } from '../../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../../shared/src/logger.ts';
import type { AgentMessage } from '../../../../shared/src/messages.ts';

const FIXTURE = fileURLToPath(
  new URL('../../../fixtures/jasper/live-demo-stream.jsonl', import.meta.url),
);

// The `slos:` section `npm run demo` writes into its collector.yaml.
const DEMO_SLOS = `
slos:
  - name: ollama_availability
    latencyThreshold: 2s
    targetPercent: 99.5
    period: 1d
    bucketWidth: 2s
    noDataAfter: 10s
    rules:
      - { name: slo_critical_burn, severity: SEV1, burnRate: 14.4, longWindow: 2m, shortWindow: 10s }
      - { name: slo_high_burn, severity: SEV2, burnRate: 3, longWindow: 2m, shortWindow: 10s }
      - { name: slo_slow_burn, severity: SEV3, burnRate: 1, longWindow: 12m, shortWindow: 1m }
`;

/** The recorded live stream. */
export function liveDemoStream(): AgentMessage[] {
  return parseAgentStream(readFileSync(FIXTURE, 'utf8'), FIXTURE);
}

/** What a replay of the live stream left behind. */
export interface LiveDemoRun {
  manager: IncidentManager;
  incident: Incident;
  markdown: string;
  cleanup(): Promise<void>;
}

/** Replays the live stream and returns its one incident and postmortem. */
export async function replayLiveDemo(): Promise<LiveDemoRun> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gpuwarden-live-demo-'));
  const fs = createNodeFs();
  const logger = createSilentLogger();
  const slos = parseSloConfig(
    new ConfigNode(parseConfigText(DEMO_SLOS, 'demo'), ''),
  ).slos;
  const run = await runReplay(
    { messages: liveDemoStream(), slos },
    {
      logger,
      fs,
      createIncidents: (clock) =>
        createIncidentManager(
          {
            dataDir: dir,
            holdMs: 30_000,
            reopenWindowMs: 120_000,
            evidenceLookbackMs: 300_000,
          },
          { clock, logger, fs },
        ),
    },
  );
  const manager = run.incidents;
  const incident = manager.list()[0];
  if (!incident) throw new Error('the live demo stream opened no incident');
  const written = await manager.postmortemMarkdown(incident.id);
  return {
    manager,
    incident,
    markdown: written.ok ? written.value : '',
    cleanup: async () => {
      await manager.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
