import { expect } from 'chai';
import { FleetState } from '../../../collector/src/ingest/fleet-state.ts';
import { sampleMessage, samplePayloads } from '../../support/link-fixtures.ts';

describe('FleetState', () => {
  it('tracks connection, hello, latest snapshot, health and guard events per node', () => {
    const fleet = new FleetState();
    const changed: string[] = [];
    fleet.onChange((node) => changed.push(node));
    const messages = samplePayloads('jasper').map((payload, i) =>
      sampleMessage('jasper', i + 1, payload),
    );

    fleet.connected('jasper', { atMs: 5, agentVersion: '0.1.0', hello: null });
    fleet.applied('jasper', messages);
    const state = fleet.node('jasper')!;

    expect(state).to.deep.include({
      connected: true,
      connectedSinceMs: 5,
      agentVersion: '0.1.0',
      lastSeq: 5,
    });
    expect(state.hello?.node).to.equal('jasper');
    expect(state.snapshot?.source).to.equal('nvml');
    expect(state.guard.map((g) => g.kind)).to.deep.equal(['kill']);
    expect(state.ollama?.model).to.equal('qwen2.5:32b');
    expect(state.counts.applied).to.equal(5);
    expect(changed).to.deep.equal(['jasper', 'jasper']);
  });

  it('takes the thinned count and sampler health from health events', () => {
    const fleet = new FleetState();
    const base = { atMs: 1, ollama: null, message: 'nvml failed' };

    fleet.applied('onyx', [
      sampleMessage('onyx', 1, {
        type: 'health',
        health: {
          ...base,
          component: 'link',
          status: 'degraded',
          kind: 'outbox_thinned',
          details: { thinnedMessages: 12 },
        },
      }),
      sampleMessage('onyx', 2, {
        type: 'health',
        health: {
          ...base,
          component: 'sampler',
          status: 'down',
          kind: 'driver_not_loaded',
          details: {},
        },
      }),
    ]);
    fleet.disconnected('onyx', 'cancelled');

    const state = fleet.node('onyx')!;
    expect(state.counts.thinned).to.equal(12);
    expect(state.sampler).to.deep.equal({
      source: null,
      lastError: 'nvml failed',
      stale: true,
    });
    expect(state).to.deep.include({ connected: false, lastError: 'cancelled' });
  });

  it('stops calling a listener after unsubscribe', () => {
    const fleet = new FleetState();
    let calls = 0;
    const off = fleet.onChange(() => (calls += 1));

    off();
    fleet.refused('jasper', 'bad token');

    expect(calls).to.equal(0);
  });
});
