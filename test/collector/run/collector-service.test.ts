import { expect } from 'chai';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { LinkClient } from '../../../agent/src/link/link-client.ts';
import { startCollectorService } from '../../../collector/src/run/collector-service.ts';
import type { CollectorService } from '../../../collector/src/run/collector-service.ts';
import type { ChangeTopic } from '../../../collector/src/web/ports.ts';
import { createSystemClock } from '../../../shared/src/clock.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import type { AgentPayload } from '../../../shared/src/messages.ts';
import { samplePayloads } from '../../support/link-fixtures.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';
import type { LogLine } from '../../support/memory-logger.ts';
import {
  WEB_TOKEN,
  createJasperLink,
  createServiceFixture,
  eventually,
  sliSecond,
} from './service-harness.ts';
import type { ServiceFixture } from './service-harness.ts';

// Response bodies are checked field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('startCollectorService()', () => {
  let fixture: ServiceFixture;
  let service: CollectorService;
  let link: LinkClient;
  let lines: LogLine[];
  const topics = new Set<ChangeTopic>();

  const get = async (route: string): Promise<Json> => {
    const res = await fetch(`${service.webUrl}${route}`);
    return res.headers.get('content-type')?.includes('json')
      ? res.json()
      : res.text();
  };
  const post = (route: string, body: unknown) =>
    fetch(`${service.webUrl}${route}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${WEB_TOKEN}`,
      },
      body: JSON.stringify(body),
    });

  before(async () => {
    fixture = await createServiceFixture();
    const memory = createMemoryLogger('info');
    lines = memory.lines;
    service = await startCollectorService(fixture.config, {
      clock: createSystemClock(),
      logger: memory.logger,
      fs: createNodeFs(),
    });
    service.sources.onChange((topic) => topics.add(topic));
    link = createJasperLink(fixture, service.ingestAddress);
    const nowMs = createSystemClock().nowMs();
    for (const payload of jasperStream(nowMs)) link.send(payload);
    await link.start();
  });

  after(async () => {
    await link?.stop();
    await service?.stop();
    await fixture?.remove();
  });

  it('listens on the bound ports it reports', () => {
    expect(service.ingestAddress).to.match(/^127\.0\.0\.1:\d+$/);
    expect(service.ingestAddress).not.to.equal('127.0.0.1:0');
    expect(service.webUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(service.dataDir).to.equal(fixture.dataDir);
  });

  it('shows the agent connected with its snapshot, Ollama and guard events', async () => {
    const node = await eventually('jasper with guard events', async () => {
      const body = await get('/api/nodes');
      const found = body.nodes.find((n: Json) => n.node === 'jasper');
      return found?.guard.length === 2 ? found : null;
    });

    expect(node.connected).to.equal(true);
    expect(node.hello.gpus[0].name).to.equal('NVIDIA GeForce RTX 4090');
    expect(node.snapshot.gpus).to.have.length(2);
    expect(node.snapshot.gpus[0].memory.totalBytes).to.equal(85_520_809_984);
    expect(node.ollama.model).to.equal('qwen2.5:32b');
    expect(node.ollama.offloadedBytes).to.equal(3_000_000_000);
    expect(node.guard.map((g: Json) => g.kind)).to.deep.equal([
      'warning',
      'kill',
    ]);
    expect(node.guardCounts).to.deep.equal({ warning: 1, kill: 1 });
    expect(node.ingest.applied).to.be.at.least(35);
  });

  it('evaluates the SLO per node and opens an incident from a burning SLI', async () => {
    const slo = await eventually('a firing SLO', async () => {
      const body = await get('/api/slos');
      return body.slos.find((s: Json) => s.firing !== null) ?? null;
    });

    expect(slo.slo).to.equal('ollama_availability');
    expect(slo.node).to.equal('jasper');
    expect(slo.targetPercent).to.equal(99.5);
    expect(slo.firing.rule).to.equal('slo_high_burn');
    expect(slo.burnRates.rolling_30s).to.be.above(3);
    expect(slo.history.length).to.be.above(0);
    expect(slo).not.to.have.property('windows');
  });

  it('serves incidents without evidence or lifecycle bookkeeping', async () => {
    const incident = await eventually('an open incident', async () => {
      const body = await get('/api/incidents');
      return body.incidents[0] ?? null;
    });
    const one = await get(`/api/incidents/${incident.id}`);
    const markdown = await get(`/api/incidents/${incident.id}/postmortem.md`);

    expect(incident.id).to.match(/^INC-\d{8}-[0-9a-f]{4}$/);
    expect(incident.node).to.equal('jasper');
    expect(incident.severity).to.equal('SEV2');
    expect(incident.trigger.rule).to.equal('slo_high_burn');
    expect(incident).not.to.have.property('evidence');
    expect(incident).not.to.have.property('lifecycle');
    expect(one).not.to.have.property('evidence');
    expect(one.timeline.length).to.be.above(0);
    expect(markdown).to.contain(`# Postmortem: ${incident.id}`);
  });

  it('maps incident actions to 200, 404 and 409', async () => {
    const [incident] = (await get('/api/incidents')).incidents;
    const acked = await post(`/api/incidents/${incident.id}/ack`, {
      by: 'ops',
    });
    const ackBody = (await acked.json()) as Json;
    const missing = await post('/api/incidents/INC-20000101-0000/ack', {});
    const resolved = await post(`/api/incidents/${incident.id}/resolve`, {});
    const again = await post(`/api/incidents/${incident.id}/ack`, {});

    expect(acked.status).to.equal(200);
    expect(ackBody.status).to.equal('acknowledged');
    expect(ackBody).not.to.have.property('evidence');
    expect(missing.status).to.equal(404);
    expect(resolved.status).to.equal(200);
    expect(again.status).to.equal(409);
  });

  it('exports the agent and the SLO on /metrics and reports ready', async () => {
    const metrics: string = await get('/metrics');
    const ready = await fetch(`${service.webUrl}/readyz`);

    expect(metrics).to.contain('gpuwarden_agent_connected{node="jasper"} 1');
    expect(metrics).to.match(
      /gpuwarden_slo_target_ratio\{slo="ollama_availability",node="jasper"\} 0\.995/,
    );
    expect(ready.status).to.equal(200);
  });

  it('tells the live feed about nodes, SLOs and incidents', () => {
    expect([...topics].sort()).to.deep.equal(['incidents', 'nodes', 'slos']);
  });

  it('logs its start with both addresses', () => {
    const started = lines.find((line) => line.msg === 'collector started');

    expect(started?.ingest).to.equal(service.ingestAddress);
    expect(started?.web).to.equal(service.webUrl);
  });

  it('stops cleanly, keeping incidents, buckets and the journal on disk', async () => {
    await link.stop();
    await service.stop();
    const files = await readdir(fixture.dataDir);
    const buckets = await readdir(
      path.join(fixture.dataDir, 'slo-buckets', 'ollama_availability'),
    );
    const postmortems = await readdir(
      path.join(fixture.dataDir, 'postmortems'),
    );

    expect(files).to.include.members([
      'incidents.json',
      'agent-tokens',
      'ingest-journal',
    ]);
    expect(buckets).to.deep.equal(['jasper.json']);
    expect(postmortems[0]).to.match(/^INC-\d{8}-[0-9a-f]{4}\.md$/);
    expect(lines.map((line) => line.msg)).to.include('collector stopped');
  });

  it('finds its incidents again after a restart on the same data dir', async () => {
    const restarted = await startCollectorService(fixture.config, {
      clock: createSystemClock(),
      logger: createMemoryLogger('warn').logger,
      fs: createNodeFs(),
    });
    try {
      const body = await (
        await fetch(`${restarted.webUrl}/api/incidents`)
      ).json();

      expect((body as Json).incidents).to.have.length(1);
      expect((body as Json).incidents[0].status).to.equal('resolved');
    } finally {
      await restarted.stop();
    }
  });
});

/**
 * What an agent on jasper sends: its hello, a snapshot, 30 seconds of
 * requests that all took 3 s (every one bad against the 2 s threshold),
 * a guard warning and kill, and Ollama's health.
 */
function jasperStream(nowMs: number): AgentPayload[] {
  const [hello, snapshot, , guard, health] = samplePayloads('jasper');
  const kill = guard as Extract<AgentPayload, { type: 'guard' }>;
  const warning: AgentPayload = {
    type: 'guard',
    guard: { ...kill.guard, kind: 'warning', signal: null },
  };
  const slow = Array.from({ length: 30 }, (_, i): AgentPayload => ({
    type: 'sli',
    sli: sliSecond(nowMs - (29 - i) * 1000, 20, 3000),
  }));
  return [hello!, snapshot!, ...slow, warning, kill, health!];
}
