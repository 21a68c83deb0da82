/**
 * `npm run demo`: the Jasper incident, live, on a simulated GPU. A real
 * collector and a real agent (guard in `enforce`) run against a fake RTX
 * 4090; a real `code-tunnel` process takes 3 GiB, Ollama's model spills to
 * the CPU, latency goes over 2 s, the SLO burns, an incident opens, the
 * guard kills the tunnel, latency recovers, the incident resolves and the
 * postmortem is written. The terminal tells the story as it happens.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFakeNvml } from '../test/fakes/build-fake-nvml.ts';
import {
  jasperState,
  readGpuState,
  writeGpuState,
} from '../test/fakes/gpu-state.ts';
import type { FakeGpuState } from '../test/fakes/gpu-state.ts';
import {
  CODE_TUNNEL_BYTES,
  DEMO_MODEL,
  DEMO_MODEL_BYTES,
  XORG_BYTES,
  prepareDemo,
} from './demo-setup.ts';
import type { DemoLayout } from './demo-setup.ts';
import { ChildSet } from './processes.ts';
import type { DemoChild } from './processes.ts';
import { Story } from './story.ts';
import type { DemoOutcome } from './story.ts';
import { startTraffic } from './traffic.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const HEALTHY_MS = 20_000;
const STORY_TIMEOUT_MS = 6 * 60_000;

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Folder for everything the run writes; emptied first. */
  dir: string;
  /** Where progress lines go. */
  print: (line: string) => void;
  /**
   * Called once the incident has resolved, while everything still runs
   * (the end-to-end test looks at the dashboard then).
   */
  beforeStop?: () => Promise<void>;
}

/** The end of a demo run, for people and for the end-to-end test. */
export interface DemoSummary extends DemoOutcome {
  dashboardUrl: string;
  dir: string;
  pids: { codeTunnel: number; xorg: number; ollama: number };
  alive: { codeTunnel: boolean; xorg: boolean; ollama: boolean };
  messages: {
    /** Messages in the agent's recording when it was checked. */
    recorded: number;
    firstSeq: number | null;
    lastSeq: number | null;
    /** Breaks in the recording's sequence numbers. */
    gaps: number;
    /** Highest sequence number the collector applied; null if unknown. */
    collectorLastSeq: number | null;
    /** Messages the collector applied since it started. */
    collectorApplied: number | null;
  };
}

/** Runs the whole story once; rejects with a one-line reason on failure. */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  rmSync(options.dir, { recursive: true, force: true });
  const nvml = buildNvmlOrExplain();
  const layout = await prepareDemo(options.dir, nvml);
  const children = new ChildSet(REPO_ROOT);
  try {
    return await playStory(layout, children, options);
  } finally {
    await children.stopAll();
  }
}

function buildNvmlOrExplain(): string {
  try {
    return buildFakeNvml();
  } catch (error) {
    throw new Error(
      `the demo compiles a stand-in NVIDIA library with gcc and that failed (${String(error).split('\n')[0]}); install gcc (Debian: apt-get install gcc) and run it again`,
    );
  }
}

async function playStory(
  layout: DemoLayout,
  children: ChildSet,
  options: DemoOptions,
): Promise<DemoSummary> {
  const { print } = options;
  const state = initialState();
  writeGpuState(layout.stateFile, state);
  const xorg = startStandIn(children, layout, 'Xorg', ['infinity']);
  registerProcess(layout, {
    gpu: 0,
    pid: xorg.pid,
    type: 'graphics',
    usedBytes: XORG_BYTES,
    name: '/usr/lib/xorg/Xorg',
  });
  const ollama = await startOllama(children, layout);
  await startCollector(children, layout);
  const dashboardUrl = `http://127.0.0.1:${layout.webPort}/`;
  print(
    `dashboard: ${dashboardUrl}  (open it to watch; data in ${path.relative(process.cwd(), layout.dir) || '.'})`,
  );
  await startAgent(children, layout);

  const traffic = startTraffic(
    `http://127.0.0.1:${layout.ollamaPort}`,
    DEMO_MODEL,
    10,
  );
  const story = new Story({
    webUrl: `http://127.0.0.1:${layout.webPort}`,
    traffic,
    print,
  });
  try {
    await story.waitHealthy(HEALTHY_MS);
    const tunnel = startStandIn(children, layout, 'code-tunnel', ['infinity']);
    registerProcess(layout, {
      gpu: 0,
      pid: tunnel.pid,
      type: 'compute',
      usedBytes: CODE_TUNNEL_BYTES,
      name: 'code-tunnel',
    });
    story.contentionStarted(tunnel.pid, CODE_TUNNEL_BYTES);
    const outcome = await story.followUntilResolved(STORY_TIMEOUT_MS);
    await options.beforeStop?.();
    return {
      ...outcome,
      dashboardUrl,
      dir: layout.dir,
      pids: { codeTunnel: tunnel.pid, xorg: xorg.pid, ollama: ollama.pid },
      alive: {
        codeTunnel: isRunning(tunnel),
        xorg: isRunning(xorg),
        ollama: isRunning(ollama),
      },
      messages: await settleAndCount(children, layout),
    };
  } finally {
    await traffic.stop();
  }
}

function initialState(): FakeGpuState {
  const state = jasperState();
  const gpu = state.gpus[0];
  if (gpu) {
    gpu.baselineBytes = 310 * 2 ** 20;
    gpu.utilGpu = 35;
    gpu.temperatureC = 58;
    gpu.powerMw = 220_000;
  }
  return state;
}

function registerProcess(
  layout: DemoLayout,
  process: FakeGpuState['processes'][number],
): void {
  const state = readGpuState(layout.stateFile);
  state.processes = state.processes.filter((p) => p.pid !== process.pid);
  state.processes.push(process);
  writeGpuState(layout.stateFile, state);
}

function startStandIn(
  children: ChildSet,
  layout: DemoLayout,
  name: string,
  args: string[],
): DemoChild {
  return children.start(name, path.join(layout.binDir, name), args, {
    logFile: path.join(layout.dir, `${name}.log`),
  });
}

async function startOllama(
  children: ChildSet,
  layout: DemoLayout,
): Promise<DemoChild> {
  const child = children.start(
    'ollama',
    path.join(layout.binDir, 'ollama'),
    [
      '--import',
      'tsx',
      'test/fakes/fake-ollama-main.ts',
      '--state',
      layout.stateFile,
      '--model',
      DEMO_MODEL,
      '--model-bytes',
      String(DEMO_MODEL_BYTES),
      '--port',
      String(layout.ollamaPort),
      '--log',
      layout.ollamaLog,
      '--pid',
      'self',
      '--latency-model',
      'per-token',
    ],
    { logFile: path.join(layout.dir, 'ollama.out') },
  );
  registerProcess(layout, {
    gpu: 0,
    pid: child.pid,
    type: 'compute',
    usedBytes: DEMO_MODEL_BYTES,
    name: '/usr/local/bin/ollama',
  });
  await children.waitForOutput(child, /listening on/, 30_000);
  return child;
}

async function startCollector(
  children: ChildSet,
  layout: DemoLayout,
): Promise<DemoChild> {
  const child = children.start(
    'collector',
    process.execPath,
    ['bin/gpuwarden-collector.js', 'run', '--config', layout.collectorConfig],
    { logFile: path.join(layout.dir, 'collector.log') },
  );
  await children.waitForOutput(child, /dashboard/, 30_000);
  return child;
}

async function startAgent(
  children: ChildSet,
  layout: DemoLayout,
): Promise<DemoChild> {
  const child = children.start(
    'agent',
    process.execPath,
    [
      'bin/gpuwarden-agent.js',
      'run',
      '--config',
      layout.agentConfig,
      '--record',
      layout.recording,
    ],
    {
      logFile: path.join(layout.dir, 'agent.log'),
      env: { GPUWARDEN_FAKE_GPU_STATE: layout.stateFile },
    },
  );
  await children.waitForOutput(child, /gpuwarden agent/, 30_000);
  return child;
}

function isRunning(child: DemoChild): boolean {
  return child.process.exitCode === null && child.process.signalCode === null;
}

/**
 * Checks that nothing the agent sent was lost: its recording's sequence
 * numbers must run without gaps, and the collector must have applied every
 * one of them exactly once. Then stops the agent.
 */
async function settleAndCount(
  children: ChildSet,
  layout: DemoLayout,
): Promise<DemoSummary['messages']> {
  const seqs = readRecordedSeqs(layout.recording);
  const firstSeq = seqs[0] ?? null;
  const lastSeq = seqs.at(-1) ?? null;
  const collector = await waitForCollector(layout, lastSeq ?? 0);
  await children.stop('agent');
  let gaps = 0;
  for (let i = 1; i < seqs.length; i += 1) {
    if ((seqs[i] ?? 0) !== (seqs[i - 1] ?? 0) + 1) gaps += 1;
  }
  return {
    recorded: seqs.length,
    firstSeq,
    lastSeq,
    gaps,
    collectorLastSeq: collector?.lastSeq ?? null,
    collectorApplied: collector?.applied ?? null,
  };
}

function readRecordedSeqs(file: string): number[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => (JSON.parse(line) as { seq: number }).seq)
    .sort((a, b) => a - b);
}

/** Polls the collector until it has applied up to `seq` (10 s at most). */
async function waitForCollector(
  layout: DemoLayout,
  seq: number,
): Promise<{ lastSeq: number; applied: number } | null> {
  const url = `http://127.0.0.1:${layout.webPort}/api/nodes`;
  let seen: { lastSeq: number; applied: number } | null = null;
  for (let i = 0; i < 20; i += 1) {
    const body = (await fetch(url).then((r) => r.json())) as {
      nodes: { node: string; ingest?: { lastSeq: number; applied: number } }[];
    };
    seen = body.nodes.find((n) => n.node === 'jasper')?.ingest ?? null;
    if (seen && seen.lastSeq >= seq) return seen;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return seen;
}
