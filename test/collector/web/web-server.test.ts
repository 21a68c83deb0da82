import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { WebSocket } from 'ws';
import { createSystemClock } from '../../../shared/src/clock.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import { startWebServer } from '../../../collector/src/web/web-server.ts';
import type { WebServer } from '../../../collector/src/web/web-server.ts';
import { METRIC_FAMILY_NAMES } from '../../../collector/src/web/metrics.ts';
import { createMemorySources, jasperNode } from './web-fixtures.ts';
import type { MemorySources } from './web-fixtures.ts';

// Response bodies in these tests are checked field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const json = async (res: Response): Promise<Json> => res.json();

const TOKEN = 'web-test-token';
const config = {
  listen: '127.0.0.1:0',
  tokenFile: null,
  perProcessMetrics: true,
  maxPushesPerSecond: 10,
};

describe('startWebServer()', () => {
  let server: WebServer;
  let sources: MemorySources;

  beforeEach(async () => {
    sources = createMemorySources();
    server = await startWebServer(config, {
      sources,
      clock: createSystemClock(),
      logger: createSilentLogger(),
      token: TOKEN,
    });
  });

  afterEach(() => server.close());

  const post = (path: string, body: unknown, token: string | null = TOKEN) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  describe('REST API', () => {
    it('lists nodes, SLOs and incidents', async () => {
      const nodes = await json(await fetch(`${server.url}/api/nodes`));
      const incidents = await json(
        await fetch(`${server.url}/api/incidents?status=open`),
      );

      expect(nodes.nodes[0].node).to.equal('jasper');
      expect(
        incidents.incidents.map((i: { id: string }) => i.id),
      ).to.deep.equal(['INC-20260228-a3f7']);
    });

    it('answers an unknown status filter with 400 naming the statuses', async () => {
      const bogus = await fetch(`${server.url}/api/incidents?status=bogus`);
      const closed = await fetch(`${server.url}/api/incidents?status=closed`);

      expect(bogus.status).to.equal(400);
      expect((await json(bogus)).error.message).to.equal(
        'status must be one of open, acknowledged, resolved, closed, got "bogus"',
      );
      expect(closed.status).to.equal(200);
      expect((await json(closed)).incidents).to.deep.equal([]);
    });

    it('serves one incident and its postmortem as Markdown', async () => {
      const one = await fetch(`${server.url}/api/incidents/INC-20260228-a3f7`);
      const md = await fetch(
        `${server.url}/api/incidents/INC-20260228-a3f7/postmortem.md`,
      );

      expect((await json(one)).severity).to.equal('SEV2');
      expect(md.headers.get('content-type')).to.match(/^text\/markdown/);
      expect(await md.text()).to.contain('# Postmortem: INC-20260228-a3f7');
    });

    it('answers a malformed incident id with 400 and an unknown one with 404', async () => {
      const bad = await fetch(`${server.url}/api/incidents/..%2Fetc`);
      const missing = await fetch(
        `${server.url}/api/incidents/INC-20260101-0000`,
      );

      expect(bad.status).to.equal(400);
      expect((await json(bad)).error.message).to.contain('INC-20260228-a3f7');
      expect(missing.status).to.equal(404);
    });

    it('refuses writes without the token and changes nothing', async () => {
      const none = await post('/api/incidents/INC-20260228-a3f7/ack', {}, null);
      const wrong = await post(
        '/api/incidents/INC-20260228-a3f7/resolve',
        {},
        'nope',
      );

      expect(none.status).to.equal(401);
      expect(wrong.status).to.equal(401);
      expect(sources.incidentList[0]?.status).to.equal('open');
    });

    it('rejects malformed bodies with 4xx and changes nothing', async () => {
      const notJson = await post(
        '/api/incidents/INC-20260228-a3f7/ack',
        '{oops',
      );
      const extra = await post('/api/incidents/INC-20260228-a3f7/ack', {
        by: 'ops',
        force: true,
      });
      const longBy = await post('/api/incidents/INC-20260228-a3f7/ack', {
        by: 'x'.repeat(500),
      });
      const emptyNote = await post('/api/incidents/INC-20260228-a3f7/notes', {
        text: '  ',
      });
      const huge = await post('/api/incidents/INC-20260228-a3f7/notes', {
        text: 'x'.repeat(70_000),
      });

      expect([
        notJson.status,
        extra.status,
        longBy.status,
        emptyNote.status,
        huge.status,
      ]).to.deep.equal([400, 400, 400, 400, 413]);
      expect(sources.incidentList[0]?.status).to.equal('open');
      expect(sources.notes).to.have.length(0);
    });

    it('acks and resolves with the token, then answers 409 on a second resolve', async () => {
      const ack = await post('/api/incidents/INC-20260228-a3f7/ack', {
        by: 'ops',
        note: 'looking',
      });
      const resolve = await post('/api/incidents/INC-20260228-a3f7/resolve', {
        by: 'ops',
      });
      const again = await post('/api/incidents/INC-20260228-a3f7/resolve', {
        by: 'ops',
      });

      expect(ack.status).to.equal(200);
      expect((await json(resolve)).status).to.equal('resolved');
      expect(again.status).to.equal(409);
    });

    it('answers a wrong method with 405 and an Allow header', async () => {
      const res = await fetch(`${server.url}/api/nodes`, { method: 'DELETE' });

      expect(res.status).to.equal(405);
      expect(res.headers.get('allow')).to.equal('GET');
    });
  });

  describe('health and dashboard', () => {
    it('answers /healthz and /readyz and serves the page', async () => {
      const health = await fetch(`${server.url}/healthz`);
      const ready = await fetch(`${server.url}/readyz`);
      const page = await fetch(`${server.url}/`);

      expect([health.status, ready.status, page.status]).to.deep.equal([
        200, 200, 200,
      ]);
      expect(await page.text()).to.contain(
        '<script type="module" src="/app.js">',
      );
    });
  });

  describe('/metrics', () => {
    it('exposes GPU, SLO and incident families in base units', async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();

      expect(text).to.contain(
        'gpuwarden_gpu_memory_used_bytes{node="jasper",gpu_uuid="GPU-1",gpu_index="0",gpu_name="NVIDIA GeForce RTX 4090"} 24696061952',
      );
      expect(text).to.contain(
        'gpuwarden_slo_burn_rate{slo="ollama_availability",node="jasper",window="rolling_1h"} 3.2',
      );
      expect(text).to.contain(
        'gpuwarden_process_memory_used_bytes{node="jasper",gpu_uuid="GPU-1",pid="41872",process="code-tunnel"} 3221225472',
      );
      expect(text).to.contain(
        'gpuwarden_incidents{status="open",severity="SEV2"} 1',
      );
      expect(text).to.contain('gpuwarden_collector_process_cpu_seconds_total');
      for (const name of METRIC_FAMILY_NAMES)
        expect(text).to.contain(`# TYPE ${name} `);
    });

    it('passes promtool check metrics', async function () {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      let promtool = true;
      try {
        execFileSync('promtool', ['--version'], { stdio: 'ignore' });
      } catch {
        promtool = false;
      }
      if (!promtool) this.skip();

      const out = execFileSync('promtool', ['check', 'metrics'], {
        input: text,
        encoding: 'utf8',
      });

      expect(out.trim()).to.equal('');
    });
  });

  describe('live feed', () => {
    it('sends the whole state on connect, then only changed parts', async () => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/live`);
      const messages: Record<string, unknown>[] = [];
      const next = () =>
        new Promise<Record<string, unknown>>((resolve) => {
          ws.once('message', (data) => {
            const parsed = JSON.parse(String(data)) as Record<string, unknown>;
            messages.push(parsed);
            resolve(parsed);
          });
        });

      const first = await next();
      sources.nodeList = [jasperNode(5 * 2 ** 30)];
      sources.emit('nodes');
      const second = await next();
      ws.close();

      expect(Object.keys(first).sort()).to.deep.equal([
        'incidents',
        'nodes',
        'slos',
        'type',
      ]);
      expect(Object.keys(second).sort()).to.deep.equal(['nodes', 'type']);
      const nodes = second.nodes as ReturnType<typeof jasperNode>[];
      expect(nodes[0]?.snapshot?.gpus[0]?.processes[1]?.usedBytes).to.equal(
        5 * 2 ** 30,
      );
    });
  });
});

describe('startWebServer() on a non-loopback address', () => {
  it('refuses to start without a token', async () => {
    const start = startWebServer(
      { ...config, listen: '0.0.0.0:0' },
      {
        sources: createMemorySources(),
        clock: createSystemClock(),
        logger: createSilentLogger(),
        token: null,
      },
    );

    const error = await start.then(
      () => null,
      (e: Error) => e,
    );

    expect(String(error)).to.contain('set web.tokenFile');
  });
});
