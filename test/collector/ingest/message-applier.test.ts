import { expect } from 'chai';
import { FleetState } from '../../../collector/src/ingest/fleet-state.ts';
import { MessageApplier } from '../../../collector/src/ingest/message-applier.ts';
import type { AgentMessage } from '../../../shared/src/messages.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';

/** A message the fleet state only counts (its SLI is never read here). */
function message(seq: number): AgentMessage {
  return {
    node: 'jasper',
    seq,
    sentAtMs: 1772287200000 + seq,
    payload: { type: 'sli', sli: {} },
  } as unknown as AgentMessage;
}

function setup(storedSeq = 0) {
  const calls: number[][] = [];
  const gates: (() => void)[] = [];
  let failNext = false;
  let hold = false;
  const fleet = new FleetState();
  const clock = new FakeClock();
  const { logger, lines } = createMemoryLogger();
  const applier = new MessageApplier({
    sink: {
      apply: async (_node, messages) => {
        calls.push(messages.map((m) => m.seq));
        if (hold) await new Promise<void>((resolve) => gates.push(resolve));
        if (failNext) {
          failNext = false;
          throw new Error('engine is full');
        }
      },
    },
    fleet,
    logger,
    clock,
    storedSeq: () => storedSeq,
  });
  return {
    clock,
    applier,
    calls,
    fleet,
    lines,
    gates,
    failNext: () => (failNext = true),
    hold: (on: boolean) => (hold = on),
  };
}

describe('MessageApplier', () => {
  it('applies each message once per run, in seq order', async () => {
    const t = setup();

    expect(await t.applier.apply('jasper', [message(1), message(2)])).to.equal(
      2,
    );
    // Sent again after a failed journal write: stored, not applied again.
    expect(await t.applier.apply('jasper', [message(2), message(3)])).to.equal(
      3,
    );
    expect(await t.applier.apply('jasper', [message(3)])).to.equal(3);
    expect(await t.applier.apply('jasper', [])).to.equal(null);

    expect(t.calls).to.deep.equal([[1, 2], [3]]);
    expect(t.fleet.node('jasper')?.counts.applied).to.equal(3);
  });

  it('starts after what the journal already holds', async () => {
    const t = setup(5);

    await t.applier.apply('jasper', [message(4), message(5), message(6)]);

    expect(t.calls).to.deep.equal([[6]]);
  });

  it("waits for a node's earlier apply before the next", async () => {
    const t = setup();
    t.hold(true);

    const first = t.applier.apply('jasper', [message(1)]);
    const second = t.applier.apply('jasper', [message(2)]);
    const resent = t.applier.apply('jasper', [message(2)]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(t.calls).to.deep.equal([[1]]);

    t.hold(false);
    t.gates.shift()!();
    await first;
    await second;
    expect(await resent).to.equal(2);
    expect(t.calls).to.deep.equal([[1], [2]]);
  });

  it('reports a sink failure, leaves the fleet alone and goes on', async () => {
    const t = setup();
    t.failNext();

    expect(await t.applier.apply('jasper', [message(1)])).to.equal(null);
    expect(await t.applier.apply('jasper', [message(2)])).to.equal(null);

    expect(t.calls).to.deep.equal([[1], [2]]);
    expect(t.fleet.node('jasper')?.counts.applied).to.equal(1);
    const failure = t.lines.find((line) => line.level === 50)!;
    expect(failure).to.include({ node: 'jasper', fromSeq: 1 });
  });

  it('never lets what the sink failed on be marked applied in this run', async () => {
    const t = setup();
    expect(await t.applier.apply('jasper', [message(1)])).to.equal(1);
    t.failNext();

    expect(await t.applier.apply('jasper', [message(2), message(3)])).to.equal(
      1,
    );
    // Sent again after a failed journal write: not applied twice, and still
    // not marked, so that the next start offers 2 and 3 again.
    expect(await t.applier.apply('jasper', [message(2), message(3)])).to.equal(
      1,
    );
    expect(await t.applier.apply('jasper', [message(4)])).to.equal(1);
    expect(t.calls).to.deep.equal([[1], [2, 3], [4]]);
  });

  it('drains the applies begun so far', async () => {
    const t = setup();
    t.hold(true);
    void t.applier.apply('jasper', [message(1)]);
    let drained: boolean | null = null;
    const drain = t.applier.drain(5000).then((done) => (drained = done));
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).to.equal(null);

    t.gates.shift()!();
    await drain;
    expect(drained).to.equal(true);
  });

  it('gives up draining a sink that hangs', async () => {
    const t = setup();
    t.hold(true);
    void t.applier.apply('jasper', [message(1)]);

    const drain = t.applier.drain(5000);
    await t.clock.advance(5000);

    expect(await drain).to.equal(false);
  });
});
