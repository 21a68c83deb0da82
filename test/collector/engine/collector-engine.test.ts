import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCollectorEngine } from '../../../collector/src/engine/collector-engine.ts';
import type { IncidentSink } from '../../../collector/src/engine/engine-types.ts';
import { seriesFile } from '../../../collector/src/engine/series-store.ts';
import type { AlertState } from '../../../collector/src/slo/alert-state.ts';
import { defaultSlo } from '../../../collector/src/slo/slo-config.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import type { AgentMessage } from '../../../shared/src/messages.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { sliPayload } from '../../support/jasper-stream.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';

class RecordingSink implements IncidentSink {
  readonly batches: { states: AlertState[]; nowMs: number }[] = [];
  readonly evidence: AgentMessage[] = [];

  async onAlertStates(states: AlertState[], nowMs: number): Promise<void> {
    this.batches.push({ states, nowMs });
  }

  recordEvidence(_node: string, message: AgentMessage): void {
    this.evidence.push(message);
  }

  last(): AlertState | undefined {
    return this.batches[this.batches.length - 1]?.states[0];
  }
}

let seq = 0;
/** One minute of traffic ending now: `bad` of `total` over 2 s. */
function minute(clock: FakeClock, bad: number, total: number): AgentMessage {
  const endMs = clock.nowMs();
  const latencies = [
    ...new Array<number>(bad).fill(2500),
    ...new Array<number>(total - bad).fill(300),
  ];
  seq += 1;
  return {
    node: 'jasper',
    seq,
    sentAtMs: endMs,
    payload: sliPayload(endMs - 60_000, endMs, latencies),
  };
}

function heartbeat(clock: FakeClock): AgentMessage {
  seq += 1;
  return {
    node: 'jasper',
    seq,
    sentAtMs: clock.nowMs(),
    payload: sliPayload(clock.nowMs() - 1000, clock.nowMs(), []),
  };
}

describe('createCollectorEngine()', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'gpuwarden-engine-'));
  });

  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  function setup(clock = new FakeClock('2026-02-28T12:00:00Z')) {
    const sink = new RecordingSink();
    const { logger, lines } = createMemoryLogger();
    const engine = createCollectorEngine(
      { slos: [defaultSlo()], dataDir },
      { clock, logger, fs: createNodeFs(), incidents: sink },
    );
    return { clock, sink, engine, lines };
  }

  async function feed(
    s: ReturnType<typeof setup>,
    minutes: number,
    bad: number,
    total: number,
  ): Promise<void> {
    for (let i = 0; i < minutes; i += 1) {
      await s.clock.advance(60_000);
      await s.engine.apply('jasper', [minute(s.clock, bad, total)]);
    }
    await s.engine.settle();
    await s.engine.evaluate(s.clock.nowMs());
  }

  it('evaluates every 10 s on its timer and passes the states on', async () => {
    const s = setup();
    await s.engine.start();

    await feed(s, 60, 20, 200);

    expect(s.sink.batches).to.have.length(361);
    expect(s.sink.batches[0]?.nowMs).to.equal(
      Date.parse('2026-02-28T12:00:10Z'),
    );
    expect(s.sink.last()?.firing?.rule).to.equal('slo_critical_burn');
    expect(s.sink.evidence).to.have.length(60);
    await s.engine.stop();
  });

  it('logs a rule change once, with fields', async () => {
    const s = setup();
    await s.engine.start();

    await feed(s, 10, 20, 200);

    const changes = s.lines.filter((l) => l.msg === 'slo alert changed');
    expect(changes.map((l) => l.rule)).to.deep.equal(['slo_critical_burn']);
    expect(changes[0]).to.include({
      slo: 'ollama_availability',
      node: 'jasper',
    });
    await s.engine.stop();
  });

  it('freezes the verdict while the agent is silent (no_data)', async () => {
    const s = setup();
    await s.engine.start();
    await feed(s, 10, 20, 200);

    await s.clock.advance(30 * 60_000);
    await s.engine.settle();

    const state = s.sink.last()!;
    expect(state.dataState).to.equal('no_data');
    expect(state.firing?.rule).to.equal('slo_critical_burn');
    expect(state.burnRates.rolling_5m).to.equal(null);
    await s.engine.stop();
  });

  it('tells no_traffic from no_data while the agent stays alive', async () => {
    const s = setup();
    await s.engine.start();
    await feed(s, 10, 20, 200);

    for (let i = 0; i < 20; i += 1) {
      await s.clock.advance(30_000);
      await s.engine.apply('jasper', [heartbeat(s.clock)]);
    }
    await s.engine.settle();

    expect(s.sink.last()?.dataState).to.equal('no_traffic');
    expect(s.sink.last()?.firing?.rule).to.equal('slo_critical_burn');
    await s.engine.stop();
  });

  it('flags partial coverage and fires nothing before the short window', async () => {
    const s = setup();
    await s.engine.start();

    await feed(s, 4, 100, 100);

    expect(s.sink.last()?.dataState).to.equal('partial');
    const fired = s.sink.batches.filter((b) => b.states[0]?.firing);
    expect(fired).to.have.length(0);
    await feed(s, 1, 100, 100);
    expect(s.sink.last()?.firing?.rule).to.equal('slo_critical_burn');
    const status = s.engine.sloStatus()[0]!;
    expect(
      status.windows.find((w) => w.name === 'rolling_1h')?.coverageRatio,
    ).to.be.closeTo(5 / 60, 1e-12);
    await s.engine.stop();
  });

  it('keeps its windows across a restart', async () => {
    const first = setup();
    await first.engine.start();
    await feed(first, 55, 0, 200);
    await first.engine.stop();

    const second = setup(first.clock);
    await second.engine.start();
    await feed(second, 5, 40, 200);

    const state = second.sink.last()!;
    expect(state.dataState).to.equal('ok');
    // 200 bad of 12 000 over the hour: 3.33×, not a cold 40× window.
    expect(state.burnRates.rolling_1h).to.be.closeTo(10 / 3, 1e-9);
    expect(state.firing?.rule).to.equal('slo_high_burn');
    await second.engine.stop();
  });

  it('keeps a firing verdict across a restart while the agent is away', async () => {
    const first = setup();
    await first.engine.start();
    await feed(first, 10, 20, 200);
    await first.engine.stop();

    const second = setup(first.clock);
    await second.engine.start();
    await second.clock.advance(10 * 60_000);

    expect(second.sink.last()?.dataState).to.equal('no_data');
    expect(second.sink.last()?.firing?.rule).to.equal('slo_critical_burn');
    await second.engine.stop();
  });

  it('sets an unreadable series file aside and starts cold', async () => {
    const file = seriesFile(dataDir, 'ollama_availability', 'jasper');
    const s = setup();
    await s.engine.start();
    await feed(s, 1, 0, 10);
    await s.engine.stop();
    writeFileSync(file, '{"version":1, broken');

    const again = setup(s.clock);
    await again.engine.start();

    const names = readdirSync(path.dirname(file));
    expect(names.some((n) => n.startsWith('jasper.json.unreadable-'))).to.equal(
      true,
    );
    expect(
      again.lines.some(
        (l) => l.msg === 'slo series file set aside, its windows start cold',
      ),
    ).to.equal(true);
    await again.engine.stop();
  });

  it('counts events stamped in the future in the current bucket', async () => {
    const s = setup();
    const message = minute(s.clock, 0, 10);
    if (message.payload.type === 'sli')
      message.payload.sli.intervalEndMs += 3_600_000;

    await s.engine.apply('jasper', [message]);
    const states = await s.engine.evaluate(s.clock.nowMs() + 1);

    expect(s.engine.stats()).to.include({
      eventsCounted: 1,
      eventsFromFuture: 1,
    });
    expect(states[0]?.dataState).to.equal('partial');
  });

  it('serves status rows with a history point per bucket', async () => {
    const s = setup();
    await s.engine.start();

    await feed(s, 3, 0, 10);

    const [row] = s.engine.sloStatus();
    expect(row).to.include({
      slo: 'ollama_availability',
      node: 'jasper',
      targetPercent: 99.5,
    });
    // Known since its first message at 12:01: buckets 12:01 and 12:02.
    expect(row?.history).to.have.length(2);
    expect(row?.period.total).to.equal(30);
    await s.engine.stop();
  });
});
