import { expect } from 'chai';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNvmlSource } from '../../../agent/src/gpu/nvml-source.ts';
import type { GpuSource, SourceSample } from '../../../agent/src/gpu/source.ts';
import { buildFakeNvml } from '../../fakes/build-fake-nvml.ts';
import { jasperState, writeGpuState } from '../../fakes/gpu-state.ts';
import type { FakeGpuState } from '../../fakes/gpu-state.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';

const GIB = 2 ** 30;

describe('createNvmlSource(): init, recovery and MIG', () => {
  let dir: string;
  let stateFile: string;
  let previousEnv: string | undefined;
  let clock: FakeClock;
  const children: ChildProcess[] = [];
  const sources: GpuSource[] = [];

  const write = (state: FakeGpuState): void => writeGpuState(stateFile, state);
  const open = (libraryPath = buildFakeNvml()) => {
    const { logger, lines } = createMemoryLogger();
    const source = createNvmlSource(
      {
        libraryPath,
        thread: 'inline',
        initBackoffMs: 1000,
        maxInitBackoffMs: 4000,
      },
      { clock, logger },
    );
    sources.push(source);
    return { source, lines };
  };
  const live = (): number => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(child);
    return child.pid ?? 0;
  };
  const sampleOk = async (source: GpuSource): Promise<SourceSample> => {
    const result = await source.sample();
    if (!result.ok) throw new Error(`sample failed: ${result.error.message}`);
    return result.value;
  };
  const failureOf = async (source: GpuSource) => {
    const result = await source.sample();
    if (result.ok) throw new Error('sample unexpectedly succeeded');
    return result.error;
  };

  before(() => {
    buildFakeNvml();
    dir = mkdtempSync(join(tmpdir(), 'gpuwarden-nvml-'));
    stateFile = join(dir, 'gpu-state');
    previousEnv = process.env.GPUWARDEN_FAKE_GPU_STATE;
    process.env.GPUWARDEN_FAKE_GPU_STATE = stateFile;
  });

  beforeEach(() => {
    clock = new FakeClock();
  });

  afterEach(async () => {
    for (const source of sources.splice(0)) await source.close();
  });

  after(() => {
    for (const child of children) child.kill('SIGKILL');
    if (previousEnv === undefined) delete process.env.GPUWARDEN_FAKE_GPU_STATE;
    else process.env.GPUWARDEN_FAKE_GPU_STATE = previousEnv;
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a library that cannot be loaded as library_missing with what to do', async () => {
    const { source } = open(join(dir, 'no-such-libnvidia-ml.so.1'));

    const failure = await failureOf(source);

    expect(failure.kind).to.equal('library_missing');
    expect(failure.retryable).to.equal(false);
    expect(failure.message).to.contain('no-such-libnvidia-ml.so.1');
    expect(failure.message).to.contain('install the NVIDIA driver');
    expect(failure.message).to.contain('--source nvidia-smi');
  });

  it('retries a driver that was not loaded at boot with backoff and recovers once it is (B09)', async () => {
    const state = jasperState();
    state.initError = 'NVML_ERROR_DRIVER_NOT_LOADED';
    write(state);
    const { source, lines } = open();

    const first = await failureOf(source);
    state.initError = null;
    write(state);
    const whileBackingOff = await failureOf(source);
    await clock.advance(1000);
    const recovered = await sampleOk(source);

    expect(first).to.include({ kind: 'driver_not_loaded', retryable: true });
    expect(first.message).to.contain('NVML_ERROR_DRIVER_NOT_LOADED');
    expect(whileBackingOff).to.equal(first);
    expect(recovered.gpus).to.have.length(1);
    expect(lines.filter((l) => l.msg === 'nvml unavailable')).to.have.length(1);
    expect(lines.find((l) => l.msg === 'nvml sampling recovered')).to.include({
      previous: 'driver_not_loaded',
    });
  });

  it('doubles the wait between init attempts up to the maximum', async () => {
    const state = jasperState();
    state.initError = 'NVML_ERROR_DRIVER_NOT_LOADED';
    write(state);
    const { source } = open();
    const messages: string[] = [];

    for (const waitMs of [0, 1000, 2000, 4000]) {
      await clock.advance(waitMs);
      messages.push((await failureOf(source)).message);
    }

    expect(
      messages.map((m) => /retrying in (\d+) s/.exec(m)?.[1]),
    ).to.deep.equal(['1', '2', '4', '4']);
  });

  it('classifies a driver/library version mismatch and keeps the agent alive (B08)', async () => {
    const state = jasperState();
    state.initError = 'NVML_ERROR_LIB_RM_VERSION_MISMATCH';
    write(state);
    const { source } = open();

    const failure = await failureOf(source);

    expect(failure).to.include({ kind: 'driver_mismatch', retryable: true });
    expect(failure.message).to.contain('nvmlInit_v2');
  });

  it('classifies a permission failure at init as no_permission', async () => {
    const state = jasperState();
    state.initError = 'NVML_ERROR_NO_PERMISSION';
    write(state);
    const { source } = open();

    expect((await failureOf(source)).kind).to.equal('no_permission');
  });

  it('initialises again after the driver goes away under a running source', async () => {
    const state = jasperState();
    write(state);
    const { source } = open();
    await sampleOk(source);

    state.failures = [
      {
        gpu: 0,
        call: 'nvmlDeviceGetUUID',
        error: 'NVML_ERROR_LIB_RM_VERSION_MISMATCH',
      },
    ];
    write(state);
    const failure = await failureOf(source);
    state.failures = [];
    write(state);
    await clock.advance(1000);
    const again = await sampleOk(source);

    expect(failure.kind).to.equal('driver_mismatch');
    expect(again.gpus[0]?.uuid).to.equal(state.gpus[0]?.uuid);
  });

  it('answers closed after close()', async () => {
    write(jasperState());
    const { source } = open();
    await sampleOk(source);

    await source.close();
    const failure = await failureOf(source);

    expect(failure.kind).to.equal('closed');
  });

  it('reads memory and processes per MIG device and attributes them by GPU instance (B04, B05)', async () => {
    const [a, b] = [live(), live()];
    const state = jasperState();
    state.gpus = [
      {
        ...state.gpus[0]!,
        name: 'NVIDIA H100 80GB HBM3',
        totalBytes: 80 * GIB,
        mig: '1',
      },
    ];
    state.migDevices = [
      {
        gpu: 0,
        index: 0,
        uuid: 'MIG-11111111-2222-3333-4444-555555555555',
        name: 'NVIDIA H100 80GB HBM3 MIG 3g.40gb',
        gi: 2,
        ci: 0,
        totalBytes: 40 * GIB,
        baselineBytes: 0,
      },
      {
        gpu: 0,
        index: 1,
        uuid: 'MIG-66666666-2222-3333-4444-555555555555',
        name: 'NVIDIA H100 80GB HBM3 MIG 3g.40gb',
        gi: 1,
        ci: 0,
        totalBytes: 40 * GIB,
        baselineBytes: 0,
      },
    ];
    state.processes = [
      {
        gpu: 0,
        pid: a,
        type: 'compute',
        usedBytes: 7 * GIB,
        name: 'gpu_burn',
        gi: 2,
        ci: 0,
      },
      {
        gpu: 0,
        pid: b,
        type: 'compute',
        usedBytes: 5 * GIB,
        name: 'ollama',
        gi: 1,
        ci: 0,
      },
    ];
    write(state);
    const { source } = open();

    const sample = await sampleOk(source);

    const [parent, mig0, mig1] = sample.gpus;
    expect(sample.gpus).to.have.length(3);
    expect(parent).to.include({ uuid: state.gpus[0]?.uuid, migEnabled: true });
    expect(parent?.memory.totalBytes).to.equal(null);
    expect(parent?.processes).to.deep.equal([]);
    expect(mig0).to.include({
      index: 0,
      uuid: 'MIG-11111111-2222-3333-4444-555555555555',
      pciBusId: '00000000:01:00.0',
      migEnabled: true,
    });
    expect(mig0?.memory).to.include({
      totalBytes: 40 * GIB,
      usedBytes: 7 * GIB,
    });
    expect(mig0?.processes.map((p) => [p.pid, p.usedBytes])).to.deep.equal([
      [a, 7 * GIB],
    ]);
    expect(mig1?.processes.map((p) => [p.pid, p.usedBytes])).to.deep.equal([
      [b, 5 * GIB],
    ]);
    expect(sample.problems.map((p) => [p.gpuUuid, p.kind])).to.deep.equal([
      [state.gpus[0]?.uuid, 'no_permission'],
      [state.gpus[0]?.uuid, 'field_unsupported'],
    ]);
  });

  it('reports MIG mode off as migEnabled false and a GPU without MIG as null', async () => {
    const state = jasperState();
    state.gpus = [
      { ...state.gpus[0]!, mig: '0' },
      { ...state.gpus[0]!, index: 1, uuid: 'GPU-2', mig: 'na' },
    ];
    write(state);
    const { source } = open();

    const sample = await sampleOk(source);

    expect(sample.gpus.map((g) => g.migEnabled)).to.deep.equal([false, null]);
    expect(sample.problems).to.deep.equal([]);
  });
});
