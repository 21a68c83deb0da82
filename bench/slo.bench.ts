/**
 * SLO engine figures: evaluation time of one SLO × node as its longest
 * window grows from 1 h to 30 days, best of 3 rounds (flat: windows are prefix-sum
 * differences, never rescans), and memory per SLO per node.
 */
import { performance } from 'node:perf_hooks';
import { createCollectorEngine } from '../collector/src/engine/collector-engine.ts';
import { evaluateSlo } from '../collector/src/slo/alert-rules.ts';
import { BucketSeries } from '../collector/src/slo/bucket-series.ts';
import { defaultSlo } from '../collector/src/slo/slo-config.ts';
import type { SloDefinition } from '../collector/src/slo/slo-config.ts';
import { createNodeFs } from '../shared/src/fs.ts';
import { createSilentLogger } from '../shared/src/logger.ts';
import type { AgentMessage } from '../shared/src/messages.ts';
import { FakeClock } from '../test/support/fake-clock.ts';
import { sliPayload } from '../test/support/jasper-stream.ts';

const MINUTE_MS = 60_000;
const NOW_MS = Date.parse('2026-02-28T14:32:00Z');

function sloWithLongest(longMs: number): SloDefinition {
  const slo = defaultSlo();
  const rules = slo.rules.map((r) =>
    r.longWindowMs === 21_600_000 ? { ...r, longWindowMs: longMs } : r,
  );
  return { ...slo, rules, periodMs: Math.max(longMs, 3_600_000) };
}

function filledSeries(slo: SloDefinition): BucketSeries {
  const buckets = slo.periodMs / MINUTE_MS;
  const series = new BucketSeries(MINUTE_MS, buckets + 1);
  const last = NOW_MS / MINUTE_MS - 1;
  for (let i = last - buckets + 1; i <= last; i += 1) {
    series.add(i, 195 + (i % 5), 200);
  }
  return series;
}

function timeEvaluation(label: string, longMs: number): void {
  const slo = sloWithLongest(longMs);
  const series = filledSeries(slo);
  const input = {
    slo,
    scope: 'jasper',
    series,
    lastSeenMs: NOW_MS,
    previousFiring: null,
  };
  const runs = 20_000;
  for (let i = 0; i < 2000; i += 1) evaluateSlo({ ...input, nowMs: NOW_MS });

  let perEvalUs = Infinity;
  for (let round = 0; round < 3; round += 1) {
    const started = performance.now();
    for (let i = 0; i < runs; i += 1) {
      evaluateSlo({ ...input, nowMs: NOW_MS + (i % 60) * 1000 });
    }
    const us = ((performance.now() - started) * 1000) / runs;
    perEvalUs = Math.min(perEvalUs, us);
  }
  console.log(
    `evaluate 1 SLO × 1 node, longest window ${label.padEnd(4)}: ${perEvalUs.toFixed(1)} µs`,
  );
}

async function memoryPerNode(): Promise<void> {
  const nodes = 200;
  const clock = new FakeClock('2026-02-28T14:00:00Z');
  const engine = createCollectorEngine(
    { slos: [defaultSlo()], dataDir: null },
    {
      clock,
      logger: createSilentLogger(),
      fs: createNodeFs(),
      incidents: { onAlertStates: async () => {}, recordEvidence: () => {} },
    },
  );
  const before = process.memoryUsage();
  for (let n = 0; n < nodes; n += 1) {
    const message: AgentMessage = {
      node: `node-${n}`,
      seq: 1,
      sentAtMs: clock.nowMs(),
      payload: sliPayload(clock.nowMs() - 10_000, clock.nowMs(), [300]),
    };
    await engine.apply(message.node, [message]);
  }
  const started = performance.now();
  await engine.evaluate(clock.nowMs());
  const evalMs = performance.now() - started;
  const after = process.memoryUsage();
  const perNode = (after.arrayBuffers - before.arrayBuffers) / nodes;
  console.log(
    `memory per SLO per node (30 d, 1 min buckets): ${(perNode / 1024).toFixed(0)} KiB of bucket rings (2 × 8 bytes × 43 201 buckets)`,
  );
  console.log(
    `evaluate 1 SLO × ${nodes} nodes (engine): ${evalMs.toFixed(1)} ms`,
  );
}

export default async function bench(): Promise<void> {
  for (const [label, ms] of [
    ['1h', 3_600_000],
    ['6h', 21_600_000],
    ['1d', 86_400_000],
    ['7d', 7 * 86_400_000],
    ['30d', 30 * 86_400_000],
  ] as const) {
    timeEvaluation(label, ms);
  }
  await memoryPerNode();
}
