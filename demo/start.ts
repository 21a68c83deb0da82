/**
 * `npm start`: gpuwarden on this host with embedded defaults. Starts the
 * collector (data under ./data, dashboard on loopback) and a local agent
 * that streams to it, each as its own process with its log in ./data. On a
 * host without an NVIDIA GPU it says so in one line and points to the
 * demo; the collector keeps running so the dashboard can still be opened.
 * Ctrl-C stops both.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import {
  createAgentToken,
  formatTokenLine,
  hashToken,
} from '../collector/src/ingest/agent-tokens.ts';
import { createSampler } from '../agent/src/gpu/sampler.ts';
import { createSystemClock } from '../shared/src/clock.ts';
import { createExec } from '../shared/src/exec.ts';
import { createNodeFs } from '../shared/src/fs.ts';
import { createSilentLogger } from '../shared/src/logger.ts';
import { freePort } from './demo-setup.ts';
import { ChildSet } from './processes.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATA_DIR = path.resolve('data');

/** Writes the embedded configs (once) and returns their paths. */
async function writeDefaults(): Promise<{ collector: string; agent: string }> {
  mkdirSync(DATA_DIR, { recursive: true });
  const node = safeNodeName(os.hostname());
  const tokenFile = path.join(DATA_DIR, 'agent-token');
  const tokensFile = path.join(DATA_DIR, 'agent-tokens');
  if (!existsSync(tokenFile) || !existsSync(tokensFile)) {
    const token = createAgentToken(node);
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const line = formatTokenLine(
      { node, tokenSha256: hashToken(token) },
      new Date().toISOString(),
    );
    writeFileSync(tokensFile, line, { mode: 0o600 });
  }
  const ingestPort = await freePort(7410);
  const webPort = await freePort(7411);
  const collector = path.join(DATA_DIR, 'collector.yaml');
  const agent = path.join(DATA_DIR, 'agent.yaml');
  writeFileSync(
    collector,
    stringify({
      dataDir: path.join(DATA_DIR, 'collector'),
      ingest: { listen: `127.0.0.1:${ingestPort}`, tokensFile },
      web: { listen: `127.0.0.1:${webPort}` },
    }),
  );
  writeFileSync(
    agent,
    stringify({
      node,
      stateDir: path.join(DATA_DIR, 'agent'),
      collector: { address: `127.0.0.1:${ingestPort}`, tokenFile },
    }),
  );
  return { collector, agent };
}

/** The host name as a node name (letters, digits, `.`, `_`, `-`). */
function safeNodeName(hostname: string): string {
  const cleaned = hostname
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  return cleaned.slice(0, 63) || 'localhost';
}

async function main(): Promise<number> {
  const configs = await writeDefaults();
  const children = new ChildSet(REPO_ROOT);
  const collector = children.start(
    'collector',
    process.execPath,
    ['bin/gpuwarden-collector.js', 'run', '--config', configs.collector],
    { logFile: path.join(DATA_DIR, 'collector.log') },
  );
  const line = await children.waitForOutput(collector, /dashboard \S+/, 30_000);
  console.log(`gpuwarden: ${line}  (collector log: data/collector.log)`);

  const agent = children.start(
    'agent',
    process.execPath,
    ['bin/gpuwarden-agent.js', 'run', '--config', configs.agent],
    { logFile: path.join(DATA_DIR, 'agent.log') },
  );
  await children.waitForOutput(agent, /gpuwarden agent/, 30_000);
  console.log(
    'gpuwarden: local agent streaming to the collector (agent log: data/agent.log); Ctrl-C stops both',
  );
  await reportGpu();

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    void collector.exited.then(() => resolve());
  });
  await children.stopAll();
  return 0;
}

/** One line on what the agent can see; points to the demo without a GPU. */
async function reportGpu(): Promise<void> {
  const sampler = createSampler(
    { node: os.hostname(), source: 'auto', enrich: false },
    {
      clock: createSystemClock(),
      logger: createSilentLogger(),
      exec: createExec(),
      fs: createNodeFs(),
    },
  );
  const result = await sampler.trySample();
  await sampler.close();
  if (result.ok) {
    const names = result.value.gpus.map((g) => g.name ?? g.uuid).join(', ');
    console.log(
      `gpuwarden: sampling ${result.value.gpus.length} GPU(s) through ${result.value.source}: ${names}`,
    );
    return;
  }
  // The sampler's message already points to the demo when no driver is
  // installed at all; other failures get the pointer here.
  const message = result.error.message;
  const line = message.includes('npm run demo')
    ? message
    : `no NVIDIA GPU could be read on this host (${message.split(';')[0]}); to see gpuwarden at work on a simulated GPU, run: npm run demo`;
  console.log(`gpuwarden: ${line}`);
  console.log(
    'gpuwarden: the dashboard stays up and shows "no data" until a GPU can be read',
  );
}

process.exitCode = await main().catch((error: Error) => {
  console.error(`gpuwarden: ${error.message.split('\n')[0]}`);
  return 1;
});
