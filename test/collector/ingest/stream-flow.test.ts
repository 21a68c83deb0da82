import { expect } from 'chai';
import {
  FlowPool,
  StreamFlow,
} from '../../../collector/src/ingest/stream-flow.ts';
import { FakeClock } from '../../support/fake-clock.ts';

/** A call that only records whether it is paused. */
function call() {
  return {
    paused: false,
    calls: 0,
    pause() {
      this.paused = true;
      this.calls += 1;
    },
    resume() {
      this.paused = false;
      this.calls += 1;
    },
  };
}

function setup() {
  const clock = new FakeClock();
  const pool = new FlowPool({ perStreamBytes: 100, totalBytes: 150 });
  const flow = (rate = 1_000_000) => {
    const c = call();
    const f = new StreamFlow(
      c,
      pool,
      { messagesPerSecond: rate, burstMessages: rate },
      clock,
    );
    return { c, f };
  };
  return { clock, pool, flow };
}

describe('StreamFlow', () => {
  it('pauses a stream over its rate limit for as long as it must wait', async () => {
    const t = setup();
    const { c, f } = t.flow(10);

    f.limitRate(10);
    expect(c.paused).to.equal(false);
    f.limitRate(5); // 5 over: half a second's worth
    expect(c.paused).to.equal(true);
    await t.clock.advance(499);
    expect(c.paused).to.equal(true);
    await t.clock.advance(1);
    expect(c.paused).to.equal(false);
  });

  it('pauses one stream at its own limit and every stream at the total', () => {
    const t = setup();
    const a = t.flow();
    const b = t.flow();

    a.f.add(100);
    expect([a.c.paused, b.c.paused]).to.deep.equal([true, false]);
    b.f.add(50);
    expect([a.c.paused, b.c.paused]).to.deep.equal([true, true]);
    a.f.release(100);
    expect([a.c.paused, b.c.paused]).to.deep.equal([false, false]);
    expect(t.pool.pendingBytes).to.equal(50);
  });

  it('leaves a closed stream alone but still counts its bytes out', () => {
    const t = setup();
    const a = t.flow();
    const b = t.flow();
    a.f.add(150);
    a.f.close();
    const callsWhenClosed = a.c.calls;

    a.f.release(150);
    b.f.add(10);

    expect(a.c.calls).to.equal(callsWhenClosed);
    expect(t.pool.pendingBytes).to.equal(10);
    expect([...t.pool.flows]).to.deep.equal([b.f]);
    expect([...t.pool.heldBack]).to.deep.equal([]);
  });
});
