/**
 * Link ingest throughput: 8-GPU × 16-process snapshots from 1, 50 and 500
 * simulated agents (a separate process, one gRPC connection each) into
 * the real ingest server with its journal (fsync per group) and a no-op
 * sink, on this machine. Prints snapshots/s acked, collector CPU per
 * message, p99 send-to-ack, collector memory, and the aim.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  createAgentToken,
  hashToken,
} from '../collector/src/ingest/agent-tokens.ts';
import { FleetState } from '../collector/src/ingest/fleet-state.ts';
import { startIngestServer } from '../collector/src/ingest/ingest-server.ts';
import { createSystemClock } from '../shared/src/clock.ts';
import { createNodeFs } from '../shared/src/fs.ts';
import { createSilentLogger } from '../shared/src/logger.ts';
import { killChild, spawnTs, tempDir } from '../test/support/link-harness.ts';

const AIM_PER_SECOND = 20_000;
const WARMUP_MS = 1500;
const MEASURE_MS = 4000;

interface Figures {
  agents: number;
  perSecond: number;
  cpuMicrosPerMessage: number;
  loadCpuMicrosPerMessage: number;
  /** Share of the time the collector's event loop was busy. */
  loopBusy: number;
  p50Ms: number | null;
  p99Ms: number | null;
  rssPeakMiB: number;
  fullBytes: number;
  steadyBytes: number;
  /** Messages each simulated agent keeps unacknowledged, at most. */
  windowMessages: number;
  /** Messages per frame. */
  batchMessages: number;
}

async function measure(agents: number): Promise<Figures> {
  const dir = tempDir('gpuwarden-link-bench-');
  const nodes = Array.from({ length: agents }, (_, i) => ({
    node: `bench-${i}`,
    token: createAgentToken(`bench-${i}`),
  }));
  writeFileSync(path.join(dir, 'tokens.json'), JSON.stringify(nodes));
  let applied = 0;
  const server = await startIngestServer(
    {
      listen: { host: '127.0.0.1', port: 0 },
      tls: null,
      allowPlaintext: false,
      tokensFile: null,
      tokens: nodes.map(({ node, token }) => ({
        node,
        tokenSha256: hashToken(token),
      })),
      maxMessageBytes: 4 * 1024 * 1024,
      rateLimit: { messagesPerSecond: 1_000_000, burstMessages: 1_000_000 },
      journal: {
        dir: path.join(dir, 'journal'),
        segmentBytes: 64 * 1024 * 1024,
        maxBytes: 256 * 1024 * 1024,
      },
    },
    {
      clock: createSystemClock(),
      logger: createSilentLogger(),
      fs: createNodeFs(),
      fleet: new FleetState(),
      sink: { apply: async (_n, m) => void (applied += m.length) },
    },
  );
  const load = spawnTs('test/support/link-load.ts', [
    `127.0.0.1:${server.port}`,
    path.join(dir, 'tokens.json'),
    String(WARMUP_MS),
    String(MEASURE_MS),
  ]);
  await load.waitForLine(/^READY$/, 60_000);
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  const startApplied = applied;
  const startCpu = process.cpuUsage();
  const startLoop = performance.eventLoopUtilization();
  let rssPeak = 0;
  const sampler = setInterval(
    () => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)),
    100,
  );
  await new Promise((resolve) => setTimeout(resolve, MEASURE_MS));
  const cpu = process.cpuUsage(startCpu);
  const loop = performance.eventLoopUtilization(startLoop);
  const count = applied - startApplied;
  clearInterval(sampler);
  const result = JSON.parse(
    (await load.waitForLine(/^RESULT /, 30_000)).slice(7),
  ) as Pick<
    Figures,
    | 'p50Ms'
    | 'p99Ms'
    | 'fullBytes'
    | 'steadyBytes'
    | 'windowMessages'
    | 'batchMessages'
  > & {
    loadCpuMicros: number;
  };
  await killChild(load.child, 'SIGKILL');
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    agents,
    perSecond: (count * 1000) / MEASURE_MS,
    cpuMicrosPerMessage: (cpu.user + cpu.system) / Math.max(1, count),
    loadCpuMicrosPerMessage: result.loadCpuMicros / Math.max(1, count),
    loopBusy: loop.utilization,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    rssPeakMiB: rssPeak / 2 ** 20,
    fullBytes: result.fullBytes,
    steadyBytes: result.steadyBytes,
    windowMessages: result.windowMessages,
    batchMessages: result.batchMessages,
  };
}

/** Agent counts to run: 1, 50, 500, or `GPUWARDEN_BENCH_AGENTS=50,500`. */
function agentCounts(): number[] {
  const given = process.env.GPUWARDEN_BENCH_AGENTS;
  if (given === undefined) return [1, 50, 500];
  const counts = given.split(',').map(Number);
  if (counts.some((n) => !Number.isInteger(n) || n < 1 || n > 2000)) {
    throw new Error(
      `GPUWARDEN_BENCH_AGENTS=${given} is not a list of agent counts (1-2000), e.g. 1,50,500`,
    );
  }
  return counts;
}

/** Runs the loads and prints measured against the aim. */
export default async function linkBench(): Promise<void> {
  console.log(
    `8 GPU x 16 process snapshots, journal fsync per group, ${WARMUP_MS} ms warm-up, ${MEASURE_MS} ms measured; aim >= ${AIM_PER_SECOND} snapshots/s acked in total`,
  );
  for (const agents of agentCounts()) {
    const f = await measure(agents);
    const verdict =
      f.perSecond >= AIM_PER_SECOND
        ? 'meets aim'
        : `${((f.perSecond / AIM_PER_SECOND) * 100).toFixed(0)}% of aim`;
    console.log(
      `${String(agents).padStart(3)} agents: ${f.perSecond.toFixed(0)} snapshots/s acked (${verdict}), collector CPU ${f.cpuMicrosPerMessage.toFixed(1)} µs/msg (load generator ${f.loadCpuMicrosPerMessage.toFixed(1)}), event loop ${(f.loopBusy * 100).toFixed(0)}% busy, send-to-ack p50 ${f.p50Ms?.toFixed(1)} ms p99 ${f.p99Ms?.toFixed(1)} ms, collector RSS peak ${f.rssPeakMiB.toFixed(0)} MiB, ${f.steadyBytes} B/msg (${f.fullBytes} B with identities, 1 in 60), ${f.windowMessages} in flight per agent in frames of ${f.batchMessages}`,
    );
  }
}
