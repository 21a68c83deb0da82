import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNvmlSource } from '../../../agent/src/gpu/nvml-source.ts';
import type { GpuSource } from '../../../agent/src/gpu/source.ts';
import { buildFakeNvml } from '../../fakes/build-fake-nvml.ts';
import { jasperState, writeGpuState } from '../../fakes/gpu-state.ts';
import { FakeClock, flushPromises } from '../../support/fake-clock.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';

describe('createNvmlSource() with the worker thread', () => {
  let dir: string;
  let stateFile: string;
  let previousEnv: string | undefined;
  const sources: GpuSource[] = [];

  const open = (thread: 'worker' | 'inline', clock = new FakeClock()) => {
    const source = createNvmlSource(
      { libraryPath: buildFakeNvml(), thread, callTimeoutMs: 200 },
      { clock, logger: createMemoryLogger().logger },
    );
    sources.push(source);
    return source;
  };

  before(() => {
    buildFakeNvml();
    dir = mkdtempSync(join(tmpdir(), 'gpuwarden-nvml-'));
    stateFile = join(dir, 'gpu-state');
    previousEnv = process.env.GPUWARDEN_FAKE_GPU_STATE;
    process.env.GPUWARDEN_FAKE_GPU_STATE = stateFile;
  });

  afterEach(async () => {
    for (const source of sources.splice(0)) await source.close();
  });

  after(() => {
    if (previousEnv === undefined) delete process.env.GPUWARDEN_FAKE_GPU_STATE;
    else process.env.GPUWARDEN_FAKE_GPU_STATE = previousEnv;
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same sample from the worker as from the calling thread', async () => {
    writeGpuState(stateFile, jasperState());
    const clock = new FakeClock();

    const inWorker = await open('worker', clock).sample();
    const inline = await open('inline', clock).sample();

    expect(inWorker.ok).to.equal(true);
    expect(inWorker).to.deep.equal(inline);
  });

  it('keeps the event loop running and answers timeout while an NVML call hangs (B06)', async () => {
    const state = jasperState();
    writeGpuState(stateFile, state);
    const clock = new FakeClock();
    const source = open('worker', clock);
    const healthy = await source.sample();
    state.slowCalls = [
      { gpu: 0, call: 'nvmlDeviceGetPowerUsage', delayMs: 600 },
    ];
    writeGpuState(stateFile, state);
    let settled = false;

    const pending = source.sample().then((result) => {
      settled = true;
      return result;
    });
    let ticks = 0;
    while (!settled && ticks < 50) {
      await clock.advance(10);
      await flushPromises();
      ticks += 1;
    }
    const result = await pending;
    const next = await source.sample();

    expect(healthy.ok).to.equal(true);
    expect(ticks).to.equal(20);
    expect(result.ok).to.equal(false);
    if (result.ok || next.ok) return;
    expect(result.error).to.include({ kind: 'timeout', retryable: true });
    expect(next.error.kind).to.equal('timeout');
  });
});
