import { expect } from 'chai';
import { LATENCY_BOUNDS_MS, countGood } from '../../../shared/src/messages.ts';
import { SliAggregator } from '../../../agent/src/ollama/sli-aggregator.ts';

const T0 = Date.parse('2026-02-28T14:00:00Z');

function aggregator(): SliAggregator {
  return new SliAggregator({
    source: 'requests',
    workload: 'ollama',
    model: 'qwen2.5:32b',
    intervalMs: 60_000,
    graceMs: 5000,
  });
}

describe('SliAggregator', () => {
  it('counts served requests per latency bucket and failures apart', () => {
    const agg = aggregator();
    agg.begin(T0);

    agg.add({ atMs: T0 + 1000, failed: false, latencyMs: 400 }, T0 + 1000);
    agg.add({ atMs: T0 + 2000, failed: false, latencyMs: 2000 }, T0 + 2000);
    agg.add({ atMs: T0 + 3000, failed: false, latencyMs: 2000.5 }, T0 + 3000);
    agg.add({ atMs: T0 + 4000, failed: true, latencyMs: 10 }, T0 + 4000);
    const [event] = agg.flush(T0 + 65_000);

    expect(event).to.include({
      source: 'requests',
      model: 'qwen2.5:32b',
      intervalStartMs: T0,
      intervalEndMs: T0 + 60_000,
      total: 4,
      failed: 1,
    });
    expect(event!.latencyCounts).to.have.length(LATENCY_BOUNDS_MS.length + 1);
    expect(countGood(event!, 2000)).to.equal(2);
  });

  it('keeps an interval open for the grace time, then emits it once', () => {
    const agg = aggregator();
    agg.begin(T0);

    expect(agg.flush(T0 + 64_999)).to.deep.equal([]);
    expect(agg.flush(T0 + 65_000)).to.have.length(1);
    expect(agg.flush(T0 + 65_000)).to.deep.equal([]);
  });

  it('emits quiet intervals as empty events', () => {
    const agg = aggregator();
    agg.begin(T0);

    const events = agg.flush(T0 + 3 * 60_000 + 5000);

    expect(events.map((e) => e.total)).to.deep.equal([0, 0, 0]);
    expect(events.map((e) => e.intervalStartMs - T0)).to.deep.equal([
      0, 60_000, 120_000,
    ]);
  });

  it('counts a late outcome in the next open interval and says so', () => {
    const agg = aggregator();
    agg.begin(T0);
    agg.flush(T0 + 65_000);

    agg.add({ atMs: T0 + 10_000, failed: false, latencyMs: 100 }, T0 + 70_000);
    const events = agg.flushAll(T0 + 70_000);

    expect(events.map((e) => [e.intervalStartMs - T0, e.total])).to.deep.equal([
      [60_000, 1],
    ]);
    expect(agg.stats()).to.deep.equal({ late: 1, future: 0 });
  });

  it('counts an outcome stamped far ahead at now', () => {
    const agg = aggregator();
    agg.begin(T0);

    agg.add({ atMs: T0 + 86_400_000, failed: false, latencyMs: 1 }, T0);
    const events = agg.flushAll(T0);

    expect(events.map((e) => e.total)).to.deep.equal([1]);
    expect(agg.stats().future).to.equal(1);
  });
});
