/**
 * The simulated Jasper the demo runs on: a fake RTX 4090 (the fake NVML
 * library reading a state file), stand-in processes for Xorg, Ollama and
 * the VS Code tunnel, and the configs of a real collector and agent with
 * SLO windows 30 times shorter than the defaults.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import {
  createAgentToken,
  formatTokenLine,
  hashToken,
} from '../collector/src/ingest/agent-tokens.ts';

/** Paths and ports of one demo run. */
export interface DemoLayout {
  dir: string;
  binDir: string;
  stateFile: string;
  ollamaLog: string;
  collectorConfig: string;
  agentConfig: string;
  recording: string;
  collectorDataDir: string;
  agentStateDir: string;
  ingestPort: number;
  webPort: number;
  ollamaPort: number;
}

/** The model the simulated Ollama serves, and its size. */
export const DEMO_MODEL = 'qwen2.5:32b';
export const DEMO_MODEL_BYTES = 21_834_240_000;
const GIB = 2 ** 30;

/** Creates the demo folder, stand-in executables, token and configs. */
export async function prepareDemo(
  dir: string,
  nvmlLibraryPath: string,
): Promise<DemoLayout> {
  const binDir = path.join(dir, 'bin');
  mkdirSync(binDir, { recursive: true });
  const layout: DemoLayout = {
    dir,
    binDir,
    stateFile: path.join(dir, 'gpu-state'),
    ollamaLog: path.join(dir, 'ollama.log'),
    collectorConfig: path.join(dir, 'collector.yaml'),
    agentConfig: path.join(dir, 'agent.yaml'),
    recording: path.join(dir, 'agent-stream.jsonl'),
    collectorDataDir: path.join(dir, 'collector'),
    agentStateDir: path.join(dir, 'agent'),
    ingestPort: await freePort(),
    webPort: await freePort(7411),
    ollamaPort: await freePort(),
  };
  // Named copies of real programs, so each stand-in has its own name and
  // executable path in /proc, as the real ones would.
  placeProgram('/bin/sleep', path.join(binDir, 'Xorg'));
  placeProgram('/bin/sleep', path.join(binDir, 'code-tunnel'));
  placeProgram(process.execPath, path.join(binDir, 'ollama'));
  writeFileSync(layout.ollamaLog, '');
  writeConfigs(layout, nvmlLibraryPath);
  return layout;
}

function placeProgram(source: string, target: string): void {
  try {
    linkSync(source, target);
  } catch {
    copyFileSync(source, target);
  }
}

function writeConfigs(layout: DemoLayout, nvmlLibraryPath: string): void {
  const node = 'jasper';
  const token = createAgentToken(node);
  const tokenFile = path.join(layout.dir, 'agent-token');
  const tokensFile = path.join(layout.dir, 'agent-tokens');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  writeFileSync(
    tokensFile,
    formatTokenLine(
      { node, tokenSha256: hashToken(token) },
      new Date().toISOString(),
    ),
    { mode: 0o600 },
  );
  const webToken = randomBytes(24).toString('base64url');
  writeFileSync(path.join(layout.dir, 'web-token'), `${webToken}\n`, {
    mode: 0o600,
  });
  writeFileSync(
    layout.collectorConfig,
    stringify(collectorConfig(layout, tokensFile)),
  );
  writeFileSync(
    layout.agentConfig,
    stringify(agentConfig(layout, tokenFile, nvmlLibraryPath)),
  );
}

/**
 * Every default window divided by 30: 1 h → 2 m, 5 m → 10 s, 6 h → 12 m,
 * 30 m → 1 m; a 2 s bucket; a 30 s hold instead of 15 m.
 */
function collectorConfig(layout: DemoLayout, tokensFile: string) {
  return {
    dataDir: layout.collectorDataDir,
    ingest: {
      listen: `127.0.0.1:${layout.ingestPort}`,
      tokensFile,
    },
    slos: [
      {
        name: 'ollama_availability',
        latencyThreshold: '2s',
        targetPercent: 99.5,
        period: '1d',
        bucketWidth: '2s',
        noDataAfter: '10s',
        rules: [
          {
            name: 'slo_critical_burn',
            severity: 'SEV1',
            burnRate: 14.4,
            longWindow: '2m',
            shortWindow: '10s',
          },
          {
            name: 'slo_high_burn',
            severity: 'SEV2',
            burnRate: 3,
            longWindow: '2m',
            shortWindow: '10s',
          },
          {
            name: 'slo_slow_burn',
            severity: 'SEV3',
            burnRate: 1,
            longWindow: '12m',
            shortWindow: '1m',
          },
        ],
      },
    ],
    incidents: {
      holdPeriod: '30s',
      reopenWindow: '2m',
      evidenceLookback: '5m',
    },
    web: {
      listen: `127.0.0.1:${layout.webPort}`,
      tokenFile: path.join(layout.dir, 'web-token'),
    },
  };
}

function agentConfig(
  layout: DemoLayout,
  tokenFile: string,
  nvmlLibraryPath: string,
) {
  return {
    node: 'jasper',
    stateDir: layout.agentStateDir,
    sampling: { source: 'nvml', interval: '1s', nvmlLibraryPath },
    guard: {
      mode: 'enforce',
      killSwitchFile: path.join(layout.dir, 'disable-enforce'),
      // The model is 20.3 GiB; the reservation covers all of it on the GPU.
      reservations: [{ gpu: 0, reserve: '21GiB', model: DEMO_MODEL }],
      protect: { exePrefixes: [path.join(layout.binDir, 'ollama')] },
      eligible: { users: [os.userInfo().username] },
      grace: { hard: '30s', soft: '10s' },
      kill: { termGrace: '3s', cooldown: '5s' },
    },
    ollama: {
      url: `http://127.0.0.1:${layout.ollamaPort}`,
      model: DEMO_MODEL,
      unit: null,
      pollInterval: '1s',
      sliInterval: '2s',
      harmWindow: '20s',
      probe: { interval: '5s' },
      log: { source: 'file', path: layout.ollamaLog },
    },
    collector: {
      address: `127.0.0.1:${layout.ingestPort}`,
      tokenFile,
    },
  };
}

/** A free TCP port on loopback; `preferred` when it is free. */
export function freePort(preferred = 0): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(freePort(0)));
    server.listen(preferred, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The bytes the stand-ins hold on the simulated GPU. */
export const XORG_BYTES = 180 * 2 ** 20;
export const CODE_TUNNEL_BYTES = 3 * GIB;
