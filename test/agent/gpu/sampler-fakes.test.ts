import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createSampler } from '../../../agent/src/gpu/sampler.ts';
import type { SamplerOptions } from '../../../agent/src/gpu/sampler.ts';
import { createExec } from '../../../shared/src/exec.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { buildFakeNvml } from '../../fakes/build-fake-nvml.ts';
import { jasperState, writeGpuState } from '../../fakes/gpu-state.ts';
import type { FakeGpuState } from '../../fakes/gpu-state.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const FAKE_SMI = path.join(repoRoot, 'test/fakes/nvidia-smi/nvidia-smi');
const GIB = 2 ** 30;

describe('createSampler() with the fake GPU', () => {
  let tmp: string;
  let stateFile: string;
  let child: ChildProcess;
  let savedEnv: string | undefined;
  let lib: string;

  const state = (initError: string | null): FakeGpuState => {
    const s = jasperState();
    s.initError = initError;
    s.processes.push({
      gpu: 0,
      pid: child.pid ?? -1,
      type: 'compute',
      usedBytes: 3 * GIB,
      name: '/usr/bin/code-tunnel',
    });
    return s;
  };

  const setup = (options: Partial<SamplerOptions> = {}) => {
    const clock = new FakeClock();
    const { logger, lines } = createMemoryLogger();
    const sampler = createSampler(
      {
        node: 'jasper',
        source: 'auto',
        nvidiaSmiPath: FAKE_SMI,
        nvmlLibraryPath: lib,
        ...options,
      },
      { clock, logger, exec: createExec(), fs: createNodeFs() },
    );
    return { sampler, clock, lines };
  };

  before(() => {
    lib = buildFakeNvml();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'gpuwarden-sampler-'));
    stateFile = path.join(tmp, 'gpu-state');
    child = spawn('sleep', ['30'], { stdio: 'ignore' });
    savedEnv = process.env.GPUWARDEN_FAKE_GPU_STATE;
    // The fake library reads the state file named in this process's env.
    process.env.GPUWARDEN_FAKE_GPU_STATE = stateFile;
  });

  after(() => {
    if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    if (savedEnv === undefined) delete process.env.GPUWARDEN_FAKE_GPU_STATE;
    else process.env.GPUWARDEN_FAKE_GPU_STATE = savedEnv;
    rmSync(tmp, { recursive: true, force: true });
  });

  it('samples through NVML and resolves a real process from /proc', async () => {
    writeGpuState(stateFile, state(null));
    const { sampler } = setup();

    try {
      const snapshot = await sampler.sampleOnce();

      expect(snapshot.source).to.equal('nvml');
      expect(snapshot.gpus[0]?.processes[0]).to.include({
        pid: child.pid,
        name: 'sleep',
        command: 'sleep 30',
        usedBytes: 3 * GIB,
        resolved: true,
      });
    } finally {
      await sampler.close();
    }
  });

  it('falls back to nvidia-smi when the library is missing', async () => {
    writeGpuState(stateFile, state(null));
    const { sampler } = setup({
      nvmlLibraryPath: path.join(tmp, 'missing/libnvidia-ml.so.1'),
    });

    try {
      const snapshot = await sampler.sampleOnce();

      expect(snapshot.source).to.equal('nvidia-smi');
      expect(snapshot.gpus[0]?.processes[0]?.pid).to.equal(child.pid);
      expect(sampler.health().source).to.equal('nvidia-smi');
      expect(sampler.health().lastError).to.match(/^NVML failed/);
    } finally {
      await sampler.close();
    }
  });

  it('reports both sources down, then returns to NVML when the driver loads', async () => {
    writeGpuState(stateFile, state('NVML_ERROR_DRIVER_NOT_LOADED'));
    const { sampler, clock } = setup();

    try {
      const down = await sampler.trySample();
      writeGpuState(stateFile, state(null));
      await clock.advance(120_000);
      const back = await sampler.trySample();

      expect(down.ok).to.equal(false);
      expect(!down.ok && down.error.message).to.contain('NVML:');
      expect(back.ok && back.value.source).to.equal('nvml');
      expect(sampler.health()).to.deep.include({
        source: 'nvml',
        lastError: null,
        stale: false,
      });
    } finally {
      await sampler.close();
    }
  });
});
