import { expect } from 'chai';
import { sliCounts } from '../../../collector/src/slo/sli.ts';
import { defaultSlo } from '../../../collector/src/slo/slo-config.ts';
import {
  LATENCY_BOUNDS_MS,
  latencyBucket,
} from '../../../shared/src/messages.ts';
import type { SliEvent } from '../../../shared/src/messages.ts';

function event(latenciesMs: number[], failed = 0): SliEvent {
  const latencyCounts = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  for (const ms of latenciesMs) latencyCounts[latencyBucket(ms)]! += 1;
  return {
    source: 'requests',
    workload: 'ollama',
    model: 'qwen2.5:32b',
    intervalStartMs: 0,
    intervalEndMs: 10_000,
    total: latenciesMs.length + failed,
    failed,
    latencyCounts,
  };
}

describe('sliCounts()', () => {
  it('counts a request of exactly the threshold as good (TC-06)', () => {
    const counts = sliCounts(event([2000, 2000, 2001, 400], 1), defaultSlo());

    expect(counts).to.deep.equal({ kind: 'counts', good: 3, total: 5 });
  });

  it('ignores other workloads and sources', () => {
    const probeOnly = { ...defaultSlo(), events: 'probe' as const };

    expect(
      sliCounts({ ...event([1]), workload: 'vllm' }, defaultSlo()),
    ).to.deep.equal({ kind: 'ignored' });
    expect(sliCounts(event([1]), probeOnly)).to.deep.equal({
      kind: 'ignored',
    });
  });

  it('refuses counts that cannot be true', () => {
    const bad = { ...event([100, 200]), total: 1 };

    expect(sliCounts(bad, defaultSlo()).kind).to.equal('invalid');
    expect(sliCounts({ ...event([]), failed: -1 }, defaultSlo()).kind).to.equal(
      'invalid',
    );
  });
});
