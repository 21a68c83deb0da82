import { expect } from 'chai';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNotifier } from '../../../collector/src/incidents/notifier.ts';
import type { HttpPost } from '../../../collector/src/incidents/notifier.ts';
import type { NotificationChannel } from '../../../collector/src/incidents/incidents-config.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import { createSystemClock } from '../../../shared/src/clock.ts';
import { createHarness, play } from './support/harness.ts';
import type { Harness } from './support/harness.ts';
import { HIGH_BURN, ms, verdict } from './support/jasper-story.ts';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A loopback receiver that answers 500 to the first `failFirst` posts. */
async function startReceiver(failFirst: number) {
  const received: Received[] = [];
  let calls = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += String(chunk)));
    req.on('end', () => {
      calls += 1;
      if (calls <= failFirst) {
        res.writeHead(500).end('not now');
        return;
      }
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (p: string) => `http://127.0.0.1:${port}${p}`,
    received,
    calls: () => calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const MINUTE_MS = 60_000;

function channel(
  type: NotificationChannel['type'],
  url: string,
): NotificationChannel {
  return {
    type,
    url,
    events: ['opened', 'escalated', 'reopened', 'resolved'],
    headers: {},
    tokenFile: null,
  };
}

async function waitFor(check: () => boolean, limitMs = 3000): Promise<void> {
  const clock = createSystemClock();
  for (let waitedMs = 0; !check(); waitedMs += 10) {
    if (waitedMs > limitMs) throw new Error('condition not met in time');
    await clock.sleep(10);
  }
}

describe('notifications', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let h: Harness;

  afterEach(async () => {
    await h.cleanup();
    await receiver.close();
  });

  async function setUp(
    failFirst: number,
    channels: (url: (p: string) => string) => NotificationChannel[],
  ) {
    receiver = await startReceiver(failFirst);
    const notifier = createNotifier(
      {
        channels: channels(receiver.url),
        retry: {
          attempts: 4,
          initialBackoffMs: 5,
          maxBackoffMs: 20,
          timeoutMs: 2000,
        },
      },
      {
        clock: createSystemClock(),
        logger: createSilentLogger(),
        fs: createNodeFs(),
      },
    );
    h = await createHarness({ holdMs: 15 * MINUTE_MS }, { notifier });
  }

  const openAndResolve = (): Promise<void> => {
    const t0 = ms('2026-02-28T14:32:00Z');
    const steps = Array.from({ length: 17 }, (_, i) => {
      const atMs = t0 + i * MINUTE_MS;
      return {
        atMs,
        messages: [],
        states: [verdict(atMs, i === 0 ? HIGH_BURN(3.2) : null)],
      };
    });
    return play(h, steps);
  };

  it('delivers open and resolve to a webhook once each, in Alertmanager v4 form', async () => {
    await setUp(0, (url) => [channel('webhook', url('/hook'))]);

    await openAndResolve();
    await waitFor(() => receiver.received.length >= 2);
    await h.manager.close();

    const bodies = receiver.received.map(
      (r) => JSON.parse(r.body) as Record<string, unknown>,
    );
    expect(receiver.calls()).to.equal(2);
    expect(bodies.map((b) => b.status)).to.deep.equal(['firing', 'resolved']);
    const [opened] = bodies as {
      version: string;
      groupKey: string;
      alerts: Record<string, unknown>[];
    }[];
    expect(opened!.version).to.equal('4');
    expect(opened!.groupKey).to.equal(
      '{}:{dedup_key="slo:ollama_availability:node=jasper"}',
    );
    expect(opened!.alerts[0]).to.include({
      status: 'firing',
      startsAt: '2026-02-28T14:32:00Z',
      endsAt: '0001-01-01T00:00:00Z',
    });
    expect(opened!.alerts[0]!.labels).to.include({
      severity: 'SEV2',
      node: 'jasper',
      slo: 'ollama_availability',
    });
    const resolved = bodies[1] as { alerts: Record<string, unknown>[] };
    expect(resolved.alerts[0]).to.include({ endsAt: '2026-02-28T14:33:00Z' });
  });

  it('retries after failures with backoff and records every attempt in the timeline', async () => {
    await setUp(2, (url) => [channel('webhook', url('/hook'))]);

    await openAndResolve();
    // Until the last answer is recorded, not only received: closing aborts
    // a delivery still in flight.
    await waitFor(
      () =>
        h.manager
          .list()[0]
          ?.timeline.filter((e) => e.kind === 'notification_sent').length === 2,
    );
    await h.manager.close();

    expect(receiver.calls()).to.equal(4);
    expect(receiver.received).to.have.length(2);
    const incident = h.manager.list()[0]!;
    const attempts = incident.timeline.filter((e) =>
      e.kind.startsWith('notification_'),
    );
    expect(attempts.map((e) => e.kind)).to.deep.equal([
      'notification_failed',
      'notification_failed',
      'notification_sent',
      'notification_sent',
    ]);
    expect(
      incident.notifications.map((n) => [n.event, n.status, n.attempts]),
    ).to.deep.equal([
      ['opened', 'sent', 3],
      ['resolved', 'sent', 1],
    ]);
  });

  it('speaks Slack and ntfy to their own URLs', async () => {
    await setUp(0, (url) => [
      channel('slack', url('/slack')),
      channel('ntfy', url('/ntfy/gpu')),
    ]);

    await play(h, [
      {
        atMs: ms('2026-02-28T14:32:00Z'),
        messages: [],
        states: [verdict(ms('2026-02-28T14:32:00Z'), HIGH_BURN(3.2))],
      },
    ]);
    await waitFor(() => receiver.received.length >= 2);

    const slack = receiver.received.find((r) => r.path === '/slack')!;
    const ntfy = receiver.received.find((r) => r.path === '/ntfy/gpu')!;
    const id = h.manager.list()[0]!.id;
    expect((JSON.parse(slack.body) as { text: string }).text).to.equal(
      `:rotating_light: [SEV2] ${id} opened: Ollama inference latency spike on Jasper (slo_high_burn (3.2x in rolling_1h))`,
    );
    expect(ntfy.headers).to.include({
      title: `[SEV2] ${id} opened`,
      priority: '4',
      tags: 'rotating_light',
    });
    expect(ntfy.body).to.contain(`[SEV2] ${id} opened`);
  });

  it('sends after a restart what was still pending when the collector stopped', async () => {
    receiver = await startReceiver(0);
    const failing: HttpPost = async () => ({ error: 'connection refused' });
    const calls: string[] = [];
    const working: HttpPost = async (url) => {
      calls.push(url);
      return { status: 202 };
    };
    const make = (post: HttpPost) =>
      createNotifier(
        {
          channels: [channel('webhook', receiver.url('/hook'))],
          retry: {
            attempts: 3,
            initialBackoffMs: 3_600_000,
            maxBackoffMs: 3_600_000,
            timeoutMs: 1000,
          },
        },
        {
          clock: createSystemClock(),
          logger: createSilentLogger(),
          fs: createNodeFs(),
          post,
        },
      );
    h = await createHarness({}, { notifier: make(failing) });
    const atMs = ms('2026-02-28T14:32:00Z');
    await play(h, [
      { atMs, messages: [], states: [verdict(atMs, HIGH_BURN(3.2))] },
    ]);
    await waitFor(() => h.manager.list()[0]!.notifications[0]!.attempts === 1);
    await h.manager.close();

    const restarted = await h.reopen({ notifier: make(working) });
    await waitFor(
      () => restarted.list()[0]!.notifications[0]!.status === 'sent',
    );

    expect(calls).to.deep.equal([receiver.url('/hook')]);
    expect(restarted.list()[0]!.notifications[0]).to.include({
      event: 'opened',
      status: 'sent',
      attempts: 2,
    });
  });
});
