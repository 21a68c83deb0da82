import { expect } from 'chai';
import { createSystemClock } from '../../../shared/src/clock.ts';
import { ConfigNode } from '../../../shared/src/config.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import { countGood } from '../../../shared/src/messages.ts';
import type { HealthEvent, SliEvent } from '../../../shared/src/messages.ts';
import { createOllamaMonitor } from '../../../agent/src/ollama/monitor.ts';
import type { OllamaMonitor } from '../../../agent/src/ollama/monitor.ts';
import { parseOllamaConfig } from '../../../agent/src/ollama/ollama-config.ts';
import { startFakeOllama } from '../../fakes/fake-ollama.ts';
import type { FakeOllama } from '../../fakes/fake-ollama.ts';
import {
  SCENE_MODEL_BYTES,
  createFakeOllamaScene,
} from '../../fakes/fake-ollama-scene.ts';
import type { FakeOllamaScene } from '../../fakes/fake-ollama-scene.ts';

const GIB = 2 ** 30;
// The fake runs at 1/20 speed: 15–22 ms on the GPU, over 100 ms offloaded.
const THRESHOLD_MS = 50;

describe('latency probe against the fake Ollama', () => {
  let scene: FakeOllamaScene;
  let fake: FakeOllama;
  let slis: SliEvent[];
  let healths: HealthEvent[];
  let monitor: OllamaMonitor;

  async function setUp(
    loaded: boolean,
    probe: Record<string, unknown> = {},
  ): Promise<void> {
    fake = await startFakeOllama({
      stateFile: scene.stateFile,
      model: 'qwen2.5:32b',
      modelBytes: SCENE_MODEL_BYTES,
      pid: process.pid,
      latencyScale: 0.05,
      watchIntervalMs: 20,
      reloadOnFreeVram: false,
      loaded,
    });
    const config = parseOllamaConfig(
      new ConfigNode(
        {
          url: fake.url,
          model: 'qwen2.5:32b',
          latencyThreshold: `${THRESHOLD_MS}ms`,
          unit: null,
          log: { source: 'none' },
          probe,
        },
        'ollama',
      ),
    );
    monitor = createOllamaMonitor(config, {
      clock: createSystemClock(),
      logger: createSilentLogger(),
      emit: { sli: (e) => slis.push(e), health: (e) => healths.push(e) },
    });
  }

  beforeEach(() => {
    scene = createFakeOllamaScene();
    slis = [];
    healths = [];
  });
  afterEach(async () => {
    await monitor.stop();
    await fake.close();
    scene.cleanup();
  });

  it('counts a healthy probe as one good event and sends nothing that changes residency', async () => {
    await setUp(true);

    await monitor.pollOnce();
    const outcome = await monitor.probeOnce();

    expect(outcome?.kind).to.equal('ok');
    expect(slis).to.have.length(1);
    expect(slis[0]).to.include({
      source: 'probe',
      workload: 'ollama',
      model: 'qwen2.5:32b',
      total: 1,
      failed: 0,
    });
    expect(countGood(slis[0]!, THRESHOLD_MS)).to.equal(1);
    const sent = fake.requests().filter((r) => r.path === '/api/generate');
    expect(sent.map((r) => r.body)).to.deep.equal([
      {
        model: 'qwen2.5:32b',
        prompt: 'Reply with OK.',
        options: { num_predict: 1, temperature: 0, seed: 7 },
        stream: false,
      },
    ]);
    expect(healths.map((h) => h.kind)).to.deep.equal(['model_resident']);
    expect(monitor.status()).to.include({
      reachable: true,
      resident: true,
      version: '0.9.6',
    });
  });

  it('counts a slow answer in a bucket over the threshold', async () => {
    await setUp(true);
    fake.setSlowdownMs(120);

    await monitor.pollOnce();
    await monitor.probeOnce();

    expect(slis[0]).to.include({ total: 1, failed: 0 });
    expect(countGood(slis[0]!, THRESHOLD_MS)).to.equal(0);
    expect(monitor.status().lastLatencyMs).to.be.at.least(120);
  });

  it('counts a probe that times out as failed', async () => {
    await setUp(true, { timeout: '100ms' });
    fake.setSlowdownMs(400);

    await monitor.pollOnce();
    const outcome = await monitor.probeOnce();

    expect(outcome?.kind === 'failed' && outcome.failure.kind).to.equal(
      'timeout',
    );
    expect(slis[0]).to.include({ total: 1, failed: 1 });
  });

  it('counts a server that is down as failed while it should be up', async () => {
    await setUp(true);
    await fake.close();

    await monitor.pollOnce();
    const outcome = await monitor.probeOnce();

    expect(outcome?.kind === 'failed' && outcome.failure.kind).to.equal(
      'refused',
    );
    expect(slis[0]).to.include({ total: 1, failed: 1 });
    expect(healths.map((h) => [h.kind, h.status])).to.deep.equal([
      ['ollama_unreachable', 'down'],
    ]);
    expect(monitor.status().reachable).to.equal(false);
  });

  it('sends no probe and forces no load while the model is not loaded', async () => {
    await setUp(false);

    await monitor.pollOnce();
    const outcome = await monitor.probeOnce();

    expect(outcome).to.deep.equal({
      kind: 'skipped',
      reason: 'not_resident',
      model: 'qwen2.5:32b',
    });
    expect(slis).to.deep.equal([]);
    expect(fake.requests().filter((r) => r.method === 'POST')).to.deep.equal(
      [],
    );
    expect(fake.placement().loaded).to.equal(false);
    expect(healths.map((h) => h.kind)).to.deep.equal(['model_not_resident']);
  });

  it('sees a partly offloaded model: health event, slow probe, harm', async () => {
    await setUp(true);
    scene.addOffender(3 * GIB);
    for (let i = 0; i < 100 && fake.placement().layersOnGpu === 65; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    await monitor.pollOnce();
    await monitor.probeOnce();

    const partial = healths.find((h) => h.kind === 'model_partly_on_cpu');
    expect(partial?.message).to.equal(
      'qwen2.5:32b partly on CPU (19.7 GiB of 20.3 GiB on GPU)',
    );
    expect(partial?.ollama?.offloadedBytes).to.equal(
      SCENE_MODEL_BYTES - fake.placement().sizeVramBytes,
    );
    expect(countGood(slis[0]!, THRESHOLD_MS)).to.equal(0);
    const harm = monitor.harm();
    expect(harm.modelPartlyOnCpu).to.equal(true);
    expect(harm.evidence[0]).to.equal(
      'qwen2.5:32b partly on CPU (19.7 GiB of 20.3 GiB on GPU)',
    );
  });
});
