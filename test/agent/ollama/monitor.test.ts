import { expect } from 'chai';
import { ConfigNode } from '../../../shared/src/config.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { HealthEvent, SliEvent } from '../../../shared/src/messages.ts';
import type { FetchPort } from '../../../agent/src/ollama/client.ts';
import { createOllamaMonitor } from '../../../agent/src/ollama/monitor.ts';
import type { OllamaMonitorDeps } from '../../../agent/src/ollama/monitor.ts';
import { parseOllamaConfig } from '../../../agent/src/ollama/ollama-config.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';

const GIB = 2 ** 30;
type Answer = { status: number; body: unknown } | 'refused';

/** A fetch that answers from a table the test changes as it goes. */
function scriptedFetch(answers: Record<string, Answer>): {
  fetch: FetchPort;
  calls: string[];
} {
  const calls: string[] = [];
  const fetch: FetchPort = async (url, init) => {
    const path = new URL(url).pathname;
    calls.push(`${init.method} ${path}`);
    const answer = answers[path] ?? { status: 404, body: 'not found' };
    if (answer === 'refused') {
      throw Object.assign(new TypeError('fetch failed'), {
        cause: { code: 'ECONNREFUSED' },
      });
    }
    return {
      status: answer.status,
      text: async () => JSON.stringify(answer.body),
    };
  };
  return { fetch, calls };
}

const psWith = (sizeVram: number) => ({
  status: 200,
  body: {
    models: [
      {
        name: 'qwen2.5:32b',
        model: 'qwen2.5:32b',
        size: 20 * GIB,
        size_vram: sizeVram,
        expires_at: '2318-06-11T10:13:52+01:00',
      },
    ],
  },
});
const generated = {
  status: 200,
  body: { done: true, done_reason: 'stop', total_duration: 400e6 },
};

function setUp(
  answers: Record<string, Answer>,
  deps: Partial<OllamaMonitorDeps> = {},
) {
  const clock = new FakeClock('2026-02-28T14:00:00Z');
  const { logger, lines } = createMemoryLogger();
  const slis: SliEvent[] = [];
  const healths: HealthEvent[] = [];
  const { fetch, calls } = scriptedFetch(answers);
  const config = parseOllamaConfig(
    new ConfigNode(
      {
        model: 'qwen2.5:32b',
        unit: null,
        log: { source: 'none', timeZone: 'UTC' },
      },
      'ollama',
    ),
  );
  const monitor = createOllamaMonitor(config, {
    clock,
    logger,
    fetch,
    follower: null,
    emit: { sli: (e) => slis.push(e), health: (e) => healths.push(e) },
    ...deps,
  });
  return { clock, monitor, slis, healths, calls, lines };
}

const gin = (time: string, status: number, latency: string) =>
  `[GIN] 2026/02/28 - ${time} | ${status} | ${latency.padStart(13)} |       10.0.4.21 | POST     "/api/chat"`;

describe('OllamaMonitor', () => {
  it('polls every 5 s and probes every 30 s once started', async () => {
    const answers: Record<string, Answer> = {
      '/api/ps': psWith(20 * GIB),
      '/api/version': { status: 200, body: { version: '0.12.6' } },
      '/api/generate': generated,
    };
    const { clock, monitor, calls, slis } = setUp(answers);

    monitor.start();
    await clock.advance(60_000);
    await monitor.stop();

    expect(calls.filter((c) => c === 'GET /api/ps')).to.have.length(13 + 2);
    expect(calls.filter((c) => c === 'POST /api/generate')).to.have.length(2);
    expect(slis.filter((e) => e.source === 'probe')).to.have.length(2);
    expect(clock.pendingTimers()).to.equal(0);
  });

  it('counts nothing while Ollama is down on purpose', async () => {
    const procFs = {
      readdir: async () => ['1', '2'],
      readText: async () => 'bash\0',
    } as unknown as Fs;
    const { monitor, slis, healths, lines } = setUp(
      { '/api/ps': 'refused' },
      { fs: procFs },
    );

    await monitor.pollOnce();
    await monitor.probeOnce();

    expect(slis).to.deep.equal([]);
    expect(healths.map((h) => h.kind)).to.deep.equal(['ollama_unreachable']);
    expect(
      lines.find((l) => l.msg === 'ollama unreachable at probe time'),
    ).to.include({ expected: false, basis: 'process' });
  });

  it('turns log lines into per-minute request events and flushes the rest on stop', async () => {
    const { clock, monitor, slis } = setUp({ '/api/ps': psWith(20 * GIB) });
    monitor.start();

    monitor.ingestLine({
      text: gin('14:00:10', 200, '412.87133ms'),
      stampMs: null,
    });
    monitor.ingestLine({
      text: gin('14:00:20', 499, '5.00211873s'),
      stampMs: null,
    });
    await clock.advance(65_500);
    monitor.ingestLine({
      text: gin('14:01:05', 200, '2.305118442s'),
      stampMs: null,
    });
    await clock.advance(500);
    const afterMinute = slis
      .filter((e) => e.source === 'requests')
      .map((e) => [e.total, e.failed]);
    await monitor.stop();
    const all = slis
      .filter((e) => e.source === 'requests')
      .map((e) => [e.total, e.failed]);

    expect(afterMinute).to.deep.equal([[2, 1]]);
    expect(all).to.deep.equal([
      [2, 1],
      [1, 0],
    ]);
    expect(monitor.stats().log).to.include({ counted: 3, failed: 1 });
  });

  it('reports a failed load from the log once, and as harm', async () => {
    const { monitor, healths } = setUp({
      '/api/ps': { status: 200, body: { models: [] } },
    });

    await monitor.pollOnce();
    monitor.ingestLine({ text: 'CUDA error: out of memory', stampMs: null });
    monitor.ingestLine({
      text: 'time=2026-02-28T14:00:00Z level=ERROR msg="error loading llama server" error="llama runner process has terminated: CUDA error: out of memory"',
      stampMs: null,
    });

    expect(healths.map((h) => h.kind)).to.deep.equal([
      'model_not_resident',
      'load_failed',
    ]);
    expect(monitor.harm().recentLoadFailure).to.equal(true);
  });

  it('reads a probe that got an out-of-memory 500 as a failed load', async () => {
    const oom = {
      status: 500,
      body: {
        error: 'llama runner process has terminated: CUDA error: out of memory',
      },
    };
    const { monitor, healths, slis } = setUp({
      '/api/ps': psWith(20 * GIB),
      '/api/version': { status: 200, body: { version: '0.12.6' } },
      '/api/generate': oom,
    });

    await monitor.pollOnce();
    await monitor.probeOnce();

    expect(slis[0]).to.include({ total: 1, failed: 1 });
    expect(healths.map((h) => h.kind)).to.deep.equal([
      'model_resident',
      'load_failed',
    ]);
    expect(monitor.harm().recentLoadFailure).to.equal(true);
  });

  it('logs health changes with fields and a constant message', async () => {
    const { monitor, lines } = setUp({ '/api/ps': psWith(19 * GIB) });

    await monitor.pollOnce();

    const line = lines.find((l) => l.msg === 'ollama health changed');
    expect(line).to.include({
      kind: 'model_partly_on_cpu',
      status: 'degraded',
      component: 'ollama',
    });
  });
});
