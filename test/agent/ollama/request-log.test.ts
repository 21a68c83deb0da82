import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { countGood } from '../../../shared/src/messages.ts';
import type { SliEvent } from '../../../shared/src/messages.ts';
import { RequestLogReader } from '../../../agent/src/ollama/request-log.ts';
import { createLocalToUtc } from '../../../agent/src/ollama/zoned-time.ts';
import { ginLine } from '../../fakes/fake-ollama-model.ts';

const T0 = Date.parse('2026-02-28T14:00:00Z');
const hostZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const garbage = readFileSync(
  new URL('../../fixtures/ollama/garbage-lines.txt', import.meta.url),
  'utf8',
).split('\n');

function reader(): RequestLogReader {
  return new RequestLogReader({
    model: 'qwen2.5:32b',
    intervalMs: 60_000,
    graceMs: 5000,
    toUtc: createLocalToUtc(hostZone),
  });
}

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rand: () => number, items: readonly T[]): T =>
  items[Math.floor(rand() * items.length)]!;

describe('RequestLogReader', () => {
  it('adds up exactly to what was served over a simulated hour', () => {
    const log = reader();
    const rand = random(42);
    const events: SliEvent[] = [];
    const served = {
      total: 0,
      failed: 0,
      fast: 0,
      excluded: 0,
      clientErrors: 0,
    };
    const perMinute = new Map<number, number>();
    log.begin(T0);

    for (let second = 0; second < 3600; second += 1) {
      const atMs = T0 + second * 1000;
      for (let n = Math.floor(rand() * 1.6); n > 0; n -= 1) {
        const path = pick(rand, [
          '/api/generate',
          '/api/chat',
          '/v1/chat/completions',
          '/api/ps',
          '/api/version',
        ]);
        const status = pick(
          rand,
          [200, 200, 200, 200, 499, 500, 503, 404, 400],
        );
        const latencyMs = pick(
          rand,
          [0.04, 3.1, 412.9, 1999.9, 2000, 2305.1, 14760.9, 781_000],
        );
        const method =
          path === '/api/ps' || path === '/api/version' ? 'GET' : 'POST';
        const line = ginLine({
          at: new Date(atMs),
          status,
          latencyMs,
          clientIp: '10.0.4.21',
          method,
          path,
        });
        log.ingest({ text: line, stampMs: null }, atMs + 200);
        if (method === 'GET') served.excluded += 1;
        else if (status === 404 || status === 400) served.clientErrors += 1;
        else {
          served.total += 1;
          const minute = Math.floor(second / 60);
          perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
          if (status !== 200) served.failed += 1;
          else if (latencyMs <= 2000) served.fast += 1;
        }
      }
      if (second % 97 === 0)
        log.ingest({ text: pick(rand, garbage), stampMs: null }, atMs);
      events.push(...log.flush(atMs + 1000));
    }
    events.push(...log.flushAll(T0 + 3_599_999));

    const sum = (f: (e: SliEvent) => number) =>
      events.reduce((s, e) => s + f(e), 0);
    expect(events).to.have.length(60);
    expect(sum((e) => e.total)).to.equal(served.total);
    expect(sum((e) => e.failed)).to.equal(served.failed);
    expect(sum((e) => countGood(e, 2000))).to.equal(served.fast);
    expect(events.map((e) => e.total)).to.deep.equal(
      Array.from({ length: 60 }, (_, m) => perMinute.get(m) ?? 0),
    );
    const stats = log.stats();
    expect(stats.counted).to.equal(served.total);
    expect(stats.excluded).to.equal(served.excluded);
    expect(stats.clientErrors).to.equal(served.clientErrors);
    expect(stats.late).to.equal(0);
    expect(stats.malformed + stats.ignored).to.equal(Math.ceil(3600 / 97));
  });

  it('leaves its own probe out of the request SLI', () => {
    const log = reader();
    const seen: boolean[] = [];
    log.begin(T0);
    log.probeSent(T0 + 1000);
    log.probeDone(T0 + 1000, T0 + 1400);

    for (const ip of ['127.0.0.1', '127.0.0.1']) {
      const text = ginLine({
        at: new Date(T0 + 1400),
        status: 200,
        latencyMs: 400,
        clientIp: ip,
        method: 'POST',
        path: '/api/generate',
      });
      seen.push(
        log.ingest({ text, stampMs: null }, T0 + 1500).kind === 'request',
      );
    }
    const events = log.flushAll(T0 + 2000);

    expect(seen).to.deep.equal([true, true]);
    expect(log.stats()).to.include({ ownProbes: 1, counted: 1 });
    expect(events[0]!.total).to.equal(1);
  });

  it('hands load facts and counted requests to its listeners', () => {
    const loads: string[] = [];
    const requests: boolean[] = [];
    const log = new RequestLogReader(
      {
        model: null,
        intervalMs: 60_000,
        graceMs: 0,
        toUtc: createLocalToUtc('UTC'),
      },
      {
        onLoad: (evidence) => loads.push(evidence.kind),
        onRequest: (_request, failed) => requests.push(failed),
      },
    );

    log.ingest(
      { text: 'load_tensors: offloaded 58/65 layers to GPU', stampMs: 5 },
      10,
    );
    log.ingest(
      {
        text: '[GIN] 2026/03/02 - 14:19:12 | 499 |   5.00211873s |       10.0.4.23 | POST     "/api/chat"',
        stampMs: null,
      },
      10,
    );
    log.ingest(
      {
        text: '[GIN] 2026/03/02 - 14:01:09 | 200 |     612.304µs |       127.0.0.1 | GET      "/api/ps"',
        stampMs: null,
      },
      10,
    );

    expect(loads).to.deep.equal(['layers']);
    expect(requests).to.deep.equal([true]);
  });
});
