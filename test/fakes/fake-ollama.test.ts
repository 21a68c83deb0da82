import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { classifyLogLine } from '../../agent/src/ollama/log-line.ts';
import { createLocalToUtc } from '../../agent/src/ollama/zoned-time.ts';
import { jasperState, readGpuState } from './gpu-state.ts';
import { startFakeOllama } from './fake-ollama.ts';
import type { FakeOllama, FakeOllamaOptions } from './fake-ollama.ts';
import {
  fakeLatencyMs,
  fakeTokenLatencyMs,
  formatGoDuration,
  placeModel,
} from './fake-ollama-model.ts';
import {
  SCENE_MODEL_BYTES,
  createFakeOllamaScene,
} from './fake-ollama-scene.ts';
import type { FakeOllamaScene } from './fake-ollama-scene.ts';

const GIB = 2 ** 30;
const hostZone = createLocalToUtc(
  Intl.DateTimeFormat().resolvedOptions().timeZone,
);

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let waitedMs = 0; waitedMs < 3000; waitedMs += 20) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  return (await (await fetch(url)).json()) as Record<string, unknown>;
}

describe('fake Ollama', () => {
  let scene: FakeOllamaScene;
  const fakes: FakeOllama[] = [];

  beforeEach(() => {
    scene = createFakeOllamaScene();
  });
  afterEach(async () => {
    for (const fake of fakes.splice(0)) await fake.close();
    scene.cleanup();
  });

  async function start(
    over: Partial<FakeOllamaOptions> = {},
  ): Promise<FakeOllama> {
    const fake = await startFakeOllama({
      stateFile: scene.stateFile,
      model: 'qwen2.5:32b',
      modelBytes: SCENE_MODEL_BYTES,
      logFile: scene.logFile,
      pid: process.pid,
      latencyScale: 0.05,
      watchIntervalMs: 20,
      ...over,
    });
    fakes.push(fake);
    return fake;
  }

  it('serves the model fully on the GPU, pinned, when the room is free', async () => {
    const fake = await start();

    const ps = await getJson(`${fake.url}/api/ps`);

    const [model] = ps.models as Record<string, unknown>[];
    expect(model).to.include({
      name: 'qwen2.5:32b',
      size: SCENE_MODEL_BYTES,
      size_vram: SCENE_MODEL_BYTES,
    });
    expect(String(model!.expires_at)).to.match(/^2318-/);
  });

  it('offloads when a newcomer takes the room, logs the load and shrinks its runner', async () => {
    const fake = await start({ reloadOnFreeVram: false });

    scene.addOffender(3 * GIB);
    await waitFor(() => fake.placement().layersOnGpu < 65, 'the offload');

    const ps = await getJson(`${fake.url}/api/ps`);
    const [model] = ps.models as Record<string, number>[];
    expect(fake.placement().layersOnGpu).to.equal(63);
    expect(model!.size_vram).to.be.below(model!.size!);
    const runner = readGpuState(scene.stateFile).processes.find(
      (p) => p.pid === process.pid,
    );
    expect(runner?.usedBytes).to.equal(model!.size_vram);
    const layers = readFileSync(scene.logFile, 'utf8')
      .split('\n')
      .map((text) => classifyLogLine({ text, stampMs: null }, hostZone))
      .filter((k) => k.kind === 'load' && k.evidence.kind === 'layers');
    expect(layers.map((k) => k.kind === 'load' && k.evidence)).to.deep.equal([
      { kind: 'layers', onGpu: 65, total: 65 },
      { kind: 'layers', onGpu: 63, total: 65 },
    ]);
  });

  it('stays offloaded after the room returns until it is reloaded, with the switch off', async () => {
    const fake = await start({ reloadOnFreeVram: false });
    const offender = scene.addOffender(3 * GIB);
    await waitFor(() => fake.placement().layersOnGpu < 65, 'the offload');

    await scene.killOffender(offender);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const stillPartial = fake.placement().layersOnGpu;
    const post = (body: unknown) =>
      fetch(`${fake.url}/api/generate`, {
        method: 'POST',
        body: JSON.stringify(body),
      });
    await post({ model: 'qwen2.5:32b', keep_alive: 0 });
    await post({ model: 'qwen2.5:32b' });

    expect(stillPartial).to.equal(63);
    expect(fake.placement().layersOnGpu).to.equal(65);
  });

  it('reloads by itself once the room returns, with the switch on', async () => {
    const fake = await start({ reloadOnFreeVram: true, reloadDelayMs: 2000 });
    const offender = scene.addOffender(3 * GIB);
    await waitFor(() => fake.placement().layersOnGpu < 65, 'the offload');

    await scene.killOffender(offender);
    await waitFor(() => fake.placement().layersOnGpu === 65, 'the reload');

    expect(fake.placement().sizeVramBytes).to.equal(SCENE_MODEL_BYTES);
  });

  it('writes Gin lines that gpuwarden reads back exactly', async () => {
    const fake = await start();

    await fetch(`${fake.url}/api/generate`, {
      method: 'POST',
      body: JSON.stringify({ model: 'qwen2.5:32b', prompt: 'hi' }),
    });
    await fetch(`${fake.url}/api/generate`, {
      method: 'POST',
      body: JSON.stringify({ model: 'nope', prompt: 'hi' }),
    });
    await fetch(`${fake.url}/api/ps`);

    const requests = readFileSync(scene.logFile, 'utf8')
      .split('\n')
      .map((text) => classifyLogLine({ text, stampMs: null }, hostZone))
      .flatMap((k) =>
        k.kind === 'request'
          ? [
              [
                k.request.method,
                k.request.path,
                k.request.status,
                k.request.clientIp,
                k.verdict,
              ],
            ]
          : [],
      );
    expect(requests).to.deep.equal([
      ['POST', '/api/generate', 200, '127.0.0.1', 'served'],
      ['POST', '/api/generate', 404, '127.0.0.1', 'client_error'],
      ['GET', '/api/ps', 200, '127.0.0.1', 'excluded'],
    ]);
  });
});

describe('fake Ollama model', () => {
  it('answers in 300–449 ms on the GPU and over 2 s with any offload', () => {
    const state = jasperState();
    const options = {
      modelBytes: SCENE_MODEL_BYTES,
      gpuIndex: 0,
      pid: null,
      headroomBytes: GIB,
      layers: 65,
    };
    const full = placeModel(state, options);
    const latencies = Array.from({ length: 20 }, (_, seq) =>
      fakeLatencyMs(full, seq),
    );
    const partial = {
      ...full,
      sizeVramBytes: full.sizeBytes - 1,
      layersOnGpu: 64,
    };

    expect(Math.min(...latencies)).to.be.at.least(300);
    expect(Math.max(...latencies)).to.be.below(450);
    expect(fakeLatencyMs(partial, 0)).to.be.above(2000);
  });

  it('keeps short answers under 2 s and long ones over it when offloaded, per token', () => {
    const full = placeModel(jasperState(), {
      modelBytes: SCENE_MODEL_BYTES,
      gpuIndex: 0,
      pid: null,
      headroomBytes: GIB,
      layers: 65,
    });
    const partial = {
      ...full,
      sizeVramBytes: Math.round((full.sizeBytes * 63) / 65),
      layersOnGpu: 63,
    };

    expect(fakeTokenLatencyMs(full, 0, 16)).to.be.below(500);
    expect(fakeTokenLatencyMs(full, 0, 320)).to.be.below(2000);
    expect(fakeTokenLatencyMs(partial, 0, 16)).to.be.below(2000);
    expect(fakeTokenLatencyMs(partial, 0, 320)).to.be.above(2000);
  });

  it('prints durations the way Go does', () => {
    expect(
      [0, 0.00085, 0.041512, 3.141592, 2305.118442, 781_400, 7_384_000].map(
        formatGoDuration,
      ),
    ).to.deep.equal([
      '0s',
      '850ns',
      '41.512µs',
      '3.141592ms',
      '2.305118442s',
      '13m1s',
      '2h3m4s',
    ]);
  });
});
