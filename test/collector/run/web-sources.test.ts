import { expect } from 'chai';
import type { SloStatus } from '../../../collector/src/engine/engine-types.ts';
import type { Incident } from '../../../collector/src/incidents/incident.ts';
import type {
  IncidentManager,
  IncidentOpError,
} from '../../../collector/src/incidents/manager-types.ts';
import { FleetState } from '../../../collector/src/ingest/fleet-state.ts';
import {
  GuardTally,
  fanOutSink,
} from '../../../collector/src/run/activity-sink.ts';
import {
  fleetLiveness,
  fleetServing,
  nodeViewOf,
} from '../../../collector/src/run/fleet-ports.ts';
import {
  createChangeHub,
  incidentPortOf,
  sloViewOf,
} from '../../../collector/src/run/web-sources.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import type { AgentMessage } from '../../../shared/src/messages.ts';
import { err, ok } from '../../../shared/src/result.ts';
import type { Result } from '../../../shared/src/result.ts';
import { sampleMessage, samplePayloads } from '../../support/link-fixtures.ts';

type Op = Result<Incident, IncidentOpError>;

function jasperMessages(): AgentMessage[] {
  return samplePayloads('jasper').map((p, i) =>
    sampleMessage('jasper', i + 1, p),
  );
}

function sampleIncident(): Incident {
  return {
    id: 'INC-20260228-a3f7',
    status: 'open',
    severity: 'SEV2',
    node: 'jasper',
    timeline: [],
    notifications: [],
    evidence: { snapshots: [] },
    lifecycle: { clearSinceMs: null },
  } as unknown as Incident;
}

/** An incident manager whose operations answer what the test says. */
function fakeManager(answer: Op, markdown: Result<string, IncidentOpError>) {
  const calls: unknown[][] = [];
  const manager = {
    list: () => [sampleIncident()],
    get: (id: string) => (id === 'INC-20260228-a3f7' ? sampleIncident() : null),
    ack: async (...args: unknown[]) => (calls.push(['ack', ...args]), answer),
    resolve: async (...args: unknown[]) => (calls.push(args), answer),
    addNote: async (...args: unknown[]) => (calls.push(args), answer),
    postmortemMarkdown: async () => markdown,
  } as unknown as IncidentManager;
  return { manager, calls };
}

describe('GuardTally', () => {
  it('counts guard events per node and kind', async () => {
    const tally = new GuardTally();

    await tally.apply('jasper', jasperMessages());
    await tally.apply('jasper', jasperMessages());

    expect(tally.of('jasper')).to.deep.equal({ kill: 2 });
    expect(tally.of('opal')).to.deep.equal({});
  });
});

describe('fanOutSink()', () => {
  it('gives each batch to every target in order and stops at a failure', async () => {
    const seen: string[] = [];
    const sink = fanOutSink([
      { apply: async () => void seen.push('engine') },
      {
        apply: async () => {
          throw new Error('disk full');
        },
      },
      { apply: async () => void seen.push('never') },
    ]);

    const outcome = await sink.apply('jasper', []).catch((e: Error) => e);

    expect(seen).to.deep.equal(['engine']);
    expect((outcome as Error).message).to.equal('disk full');
  });
});

describe('fleet ports', () => {
  it('reports last-seen times and unknown nodes as null', () => {
    const fleet = new FleetState();
    fleet.seen('jasper', 1_772_287_200_000);

    const liveness = fleetLiveness(fleet);

    expect(liveness.lastSeenMs('jasper')).to.equal(1_772_287_200_000);
    expect(liveness.lastSeenMs('opal')).to.equal(null);
  });

  it('names nodes serving a workload from reservations, null when none', () => {
    const fleet = new FleetState();
    fleet.applied('jasper', jasperMessages());
    const serving = fleetServing(fleet);

    expect(serving.nodesServing('ollama')).to.deep.equal(['jasper']);
    expect(serving.nodesServing('vllm')).to.equal(null);
  });

  it('builds a node view with guard counts and ingest facts', () => {
    const fleet = new FleetState();
    fleet.applied('jasper', jasperMessages());

    const view = nodeViewOf(fleet.node('jasper')!, { kill: 1 });

    expect(view.guard.map((g) => g.kind)).to.deep.equal(['kill']);
    expect(view.ollama?.model).to.equal('qwen2.5:32b');
    expect(view.guardCounts).to.deep.equal({ kill: 1 });
    expect(view.ingest.applied).to.equal(5);
    expect(view.ingest.lastSeq).to.equal(5);
    expect(view.connected).to.equal(false);
  });
});

describe('incidentPortOf()', () => {
  it('leaves evidence and lifecycle out of what it lists and gets', () => {
    const { manager } = fakeManager(ok(sampleIncident()), ok('# Postmortem'));
    const port = incidentPortOf(manager);

    const [listed] = port.list();
    const one = port.get('INC-20260228-a3f7');

    expect(listed).to.include({ id: 'INC-20260228-a3f7', severity: 'SEV2' });
    expect(listed).not.to.have.property('evidence');
    expect(listed).not.to.have.property('lifecycle');
    expect(one).not.to.have.property('evidence');
    expect(port.get('INC-20260228-0000')).to.equal(null);
  });

  it('passes a missing note as undefined and answers ok with the incident', async () => {
    const { manager, calls } = fakeManager(ok(sampleIncident()), ok(''));

    const outcome = await incidentPortOf(manager).ack('INC-1', 'ops', null);

    expect(calls).to.deep.equal([['ack', 'INC-1', 'ops', undefined]]);
    expect(outcome.ok).to.equal(true);
  });

  it('maps not_found to 404 and invalid_transition to 409', async () => {
    const missing = fakeManager(
      err({ code: 'not_found', message: 'no incident INC-1' }),
      ok(''),
    );
    const refused = fakeManager(
      err({ code: 'invalid_transition', message: 'INC-1 is resolved' }),
      ok(''),
    );

    const a = await incidentPortOf(missing.manager).resolve('INC-1', 'o', null);
    const b = await incidentPortOf(refused.manager).addNote('INC-1', 'o', 't');

    expect(a).to.deep.equal({
      ok: false,
      status: 404,
      message: 'no incident INC-1',
    });
    expect(b).to.deep.equal({
      ok: false,
      status: 409,
      message: 'INC-1 is resolved',
    });
  });

  it('gives the postmortem Markdown, or null for an unknown incident', async () => {
    const known = fakeManager(ok(sampleIncident()), ok('# Postmortem: x\n'));
    const unknown = fakeManager(
      ok(sampleIncident()),
      err({ code: 'not_found', message: 'no incident' }),
    );

    expect(
      await incidentPortOf(known.manager).postmortemMarkdown('x'),
    ).to.equal('# Postmortem: x\n');
    expect(
      await incidentPortOf(unknown.manager).postmortemMarkdown('x'),
    ).to.equal(null);
  });
});

describe('sloViewOf()', () => {
  it('keeps the dashboard fields and the burn history only', () => {
    const status = {
      slo: 'ollama_availability',
      node: 'jasper',
      targetPercent: 99.5,
      evaluatedAtMs: 1_772_289_120_000,
      dataState: 'ok',
      burnRates: { rolling_1h: 3.2, rolling_5m: 41.6 },
      budgetRemainingRatio: 0.9,
      firing: null,
      windows: [],
      period: {},
      history: [
        {
          atMs: 1_772_289_060_000,
          burnRates: { rolling_1h: 3.1 },
          budgetRemainingRatio: 0.91,
          dataState: 'ok',
        },
      ],
    } as unknown as SloStatus;

    const view = sloViewOf(status);

    expect(view).to.deep.equal({
      slo: 'ollama_availability',
      node: 'jasper',
      targetPercent: 99.5,
      dataState: 'ok',
      burnRates: { rolling_1h: 3.2, rolling_5m: 41.6 },
      budgetRemainingRatio: 0.9,
      firing: null,
      history: [{ atMs: 1_772_289_060_000, burnRates: { rolling_1h: 3.1 } }],
    });
  });
});

describe('createChangeHub()', () => {
  it('keeps telling the other listeners when one throws', () => {
    const hub = createChangeHub(createSilentLogger());
    const seen: string[] = [];
    hub.subscribe(() => {
      throw new Error('broken socket');
    });
    const off = hub.subscribe((topic) => seen.push(topic));

    hub.emit('slos');
    off();
    hub.emit('nodes');

    expect(seen).to.deep.equal(['slos']);
  });
});
