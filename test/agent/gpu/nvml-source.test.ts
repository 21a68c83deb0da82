import { expect } from 'chai';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNvmlSource } from '../../../agent/src/gpu/nvml-source.ts';
import type { GpuSource, SourceSample } from '../../../agent/src/gpu/source.ts';
import { buildFakeNvml } from '../../fakes/build-fake-nvml.ts';
import type { FakeNvmlProfile } from '../../fakes/build-fake-nvml.ts';
import { jasperState, writeGpuState } from '../../fakes/gpu-state.ts';
import type { FakeGpu, FakeGpuState } from '../../fakes/gpu-state.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';

const GIB = 2 ** 30;

function gpu(index: number, extra: Partial<FakeGpu> = {}): FakeGpu {
  return {
    ...jasperState().gpus[0]!,
    index,
    uuid: `GPU-0000000${index}-aaaa-bbbb-cccc-000000000000`,
    pciBusId: `00000000:0${index + 1}:00.0`,
    ...extra,
  };
}

describe('createNvmlSource() against the fake libnvidia-ml.so.1', () => {
  let dir: string;
  let stateFile: string;
  let previousEnv: string | undefined;
  const children: ChildProcess[] = [];
  const sources: GpuSource[] = [];
  let clock: FakeClock;

  const live = (): number => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(child);
    return child.pid ?? 0;
  };
  const write = (state: FakeGpuState): void => writeGpuState(stateFile, state);
  const open = (profile: FakeNvmlProfile = 'driver590', path?: string) => {
    const { logger, lines } = createMemoryLogger();
    const source = createNvmlSource(
      { libraryPath: path ?? buildFakeNvml(profile), thread: 'inline' },
      { clock, logger },
    );
    sources.push(source);
    return { source, lines };
  };
  const sampleOk = async (source: GpuSource): Promise<SourceSample> => {
    const result = await source.sample();
    if (!result.ok) throw new Error(`sample failed: ${result.error.message}`);
    return result.value;
  };

  before(() => {
    buildFakeNvml();
    buildFakeNvml('driver470');
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

  it('reads identity, memory in bytes, utilization, temperature and power in watts', async () => {
    const pid = live();
    const state = jasperState();
    state.gpus = [
      gpu(0, {
        reservedBytes: 512 * 2 ** 20,
        baselineBytes: GIB,
        utilGpu: 35,
        utilMemory: 20,
        temperatureC: 61,
        powerMw: 285_500,
      }),
    ];
    state.processes = [
      { gpu: 0, pid, type: 'compute', usedBytes: 3 * GIB, name: 'code-tunnel' },
    ];
    write(state);
    const { source } = open();

    const sample = await sampleOk(source);

    expect(sample.source).to.equal('nvml');
    expect(sample.driverVersion).to.equal('550.54.14');
    expect(sample.problems).to.deep.equal([]);
    expect(sample.gpus).to.deep.equal([
      {
        index: 0,
        uuid: 'GPU-00000000-aaaa-bbbb-cccc-000000000000',
        name: 'NVIDIA GeForce RTX 4090',
        pciBusId: '00000000:01:00.0',
        memory: {
          totalBytes: 24 * GIB,
          reservedBytes: 512 * 2 ** 20,
          usedBytes: 4 * GIB,
          freeBytes: 24 * GIB - 4 * GIB - 512 * 2 ** 20,
        },
        utilizationPercent: { gpu: 35, memory: 20 },
        temperatureC: 61,
        powerWatts: 285.5,
        migEnabled: null,
        processes: [{ pid, type: 'compute', usedBytes: 3 * GIB, name: null }],
      },
    ]);
  });

  it('reports used memory without the reserved part, as nvidia-smi does (B16)', async () => {
    const state = jasperState();
    state.gpus = [gpu(0, { totalBytes: 16 * GIB, reservedBytes: 108_003_328 })];
    write(state);
    const { source } = open();

    const memory = (await sampleOk(source)).gpus[0]?.memory;

    expect(memory).to.deep.equal({
      totalBytes: 16 * GIB,
      reservedBytes: 108_003_328,
      usedBytes: 0,
      freeBytes: 16 * GIB - 108_003_328,
    });
  });

  it('falls back to memory v1 on a driver without _v2 and says used includes reserved (B16)', async () => {
    const state = jasperState();
    state.gpus = [gpu(0, { totalBytes: 16 * GIB, reservedBytes: 108_003_328 })];
    write(state);
    const { source } = open('driver470');

    const sample = await sampleOk(source);

    expect(sample.gpus[0]?.memory).to.deep.equal({
      totalBytes: 16 * GIB,
      usedBytes: 108_003_328,
      freeBytes: 16 * GIB - 108_003_328,
      reservedBytes: null,
    });
    expect(sample.problems.map((p) => p.kind)).to.deep.equal([
      'memory_includes_reserved',
    ]);
  });

  it('merges a process on both lists into one compute+graphics row counted once', async () => {
    const pid = live();
    const state = jasperState();
    state.gpus = [gpu(0)];
    state.processes = [
      { gpu: 0, pid, type: 'both', usedBytes: GIB, name: 'Xorg' },
    ];
    write(state);
    const { source } = open();

    const processes = (await sampleOk(source)).gpus[0]?.processes;

    expect(processes).to.deep.equal([
      { pid, type: 'compute+graphics', usedBytes: GIB, name: null },
    ]);
  });

  it('frees the memory of a process once it has exited', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const state = jasperState();
    state.gpus = [gpu(0)];
    state.processes = [
      {
        gpu: 0,
        pid: child.pid ?? 0,
        type: 'compute',
        usedBytes: 3 * GIB,
        name: 'x',
      },
    ];
    write(state);
    const { source } = open();
    const before = await sampleOk(source);

    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const after = await sampleOk(source);

    expect(before.gpus[0]?.memory.usedBytes).to.equal(3 * GIB);
    expect(after.gpus[0]?.memory.usedBytes).to.equal(0);
    expect(after.gpus[0]?.processes).to.deep.equal([]);
  });

  it('reports a lost GPU and keeps sampling the healthy ones', async () => {
    const state = jasperState();
    state.gpus = [gpu(0), gpu(1), gpu(2)];
    write(state);
    const { source } = open();
    await sampleOk(source);

    state.gpus[1]!.lost = true;
    write(state);
    const sample = await sampleOk(source);

    expect(sample.gpus.map((g) => g.index)).to.deep.equal([0, 2]);
    expect(sample.problems).to.have.length(1);
    expect(sample.problems[0]).to.include({
      gpuUuid: 'GPU-00000001-aaaa-bbbb-cccc-000000000000',
      kind: 'gpu_lost',
    });
    expect(sample.problems[0]?.message).to.contain('NVML_ERROR_GPU_IS_LOST');
  });

  it('keeps a field null with a problem when its call fails, and the rest of the GPU', async () => {
    const state = jasperState();
    state.gpus = [gpu(0), gpu(1)];
    state.failures = [
      {
        gpu: 0,
        call: 'nvmlDeviceGetPowerUsage',
        error: 'NVML_ERROR_NOT_SUPPORTED',
      },
      {
        gpu: 0,
        call: 'nvmlDeviceGetTemperatureV',
        error: 'NVML_ERROR_UNKNOWN',
      },
      {
        gpu: 1,
        call: 'nvmlDeviceGetUtilizationRates',
        error: 'NVML_ERROR_NO_PERMISSION',
      },
      {
        gpu: 1,
        call: 'nvmlDeviceGetComputeRunningProcesses',
        error: 'NVML_ERROR_NO_PERMISSION',
      },
    ];
    write(state);
    const { source } = open();

    const sample = await sampleOk(source);

    expect(sample.gpus[0]).to.include({ powerWatts: null, temperatureC: null });
    expect(sample.gpus[0]?.utilizationPercent).to.deep.equal({
      gpu: 0,
      memory: 0,
    });
    expect(sample.gpus[1]?.utilizationPercent).to.deep.equal({
      gpu: null,
      memory: null,
    });
    expect(sample.gpus[1]?.temperatureC).to.equal(45);
    expect(
      sample.problems.map((p) => [p.gpuUuid?.slice(0, 12), p.kind]),
    ).to.deep.equal([
      ['GPU-00000000', 'nvml_error'],
      ['GPU-00000000', 'field_unsupported'],
      ['GPU-00000001', 'no_permission'],
      ['GPU-00000001', 'no_permission'],
    ]);
  });

  it('keeps per-process memory that the driver reports as the sentinel as null (B02)', async () => {
    const pid = live();
    const state = jasperState();
    state.gpus = [gpu(0)];
    state.processes = [
      { gpu: 0, pid, type: 'graphics', usedBytes: GIB, name: 'dwm.exe' },
    ];
    state.trap.sentinel = true;
    write(state);
    const { source } = open();

    const sample = await sampleOk(source);

    expect(sample.gpus[0]?.processes).to.deep.equal([
      { pid, type: 'graphics', usedBytes: null, name: null },
    ]);
    expect(sample.problems.map((p) => p.kind)).to.deep.equal([
      'process_memory_unknown',
    ]);
  });

  for (const stride of [32, 24, 16]) {
    it(`reads ${stride}-byte process entries from the _v3 call with the right pids (B15)`, async () => {
      const pids = [live(), live(), live()];
      const state = jasperState();
      state.gpus = [gpu(0)];
      state.processes = pids.map((pid, i) => ({
        gpu: 0,
        pid,
        type: 'compute' as const,
        usedBytes: (i + 1) * GIB,
        name: 'p',
      }));
      state.trap.stride = stride;
      write(state);
      const { source } = open();

      const processes = (await sampleOk(source)).gpus[0]?.processes;

      expect(processes?.map((p) => [p.pid, p.usedBytes])).to.deep.equal(
        pids.map((pid, i) => [pid, (i + 1) * GIB]),
      );
    });
  }

  it('fails with abi_mismatch, not retryable, when no entry layout fits (B15)', async () => {
    const state = jasperState();
    state.gpus = [gpu(0)];
    state.processes = [live(), live()].map((pid) => ({
      gpu: 0,
      pid,
      type: 'compute' as const,
      usedBytes: GIB,
      name: 'p',
    }));
    state.trap.stride = 48;
    write(state);
    const { source } = open();

    const result = await source.sample();

    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect(result.error.kind).to.equal('abi_mismatch');
    expect(result.error.retryable).to.equal(false);
    expect(result.error.message).to.contain('nvidia-smi');
  });

  it('decodes a GPU name that is not UTF-8 leniently and keeps sampling (B14)', async () => {
    const state = jasperState();
    state.gpus = [gpu(0, { nameEncoded: '%F8%80NVIDIA%20GeForce' })];
    write(state);
    const { source } = open();

    const sample = await sampleOk(source);

    expect(sample.gpus[0]?.name).to.equal('\uFFFD\uFFFDNVIDIA GeForce');
    expect(sample.gpus[0]?.memory.totalBytes).to.equal(24 * GIB);
    expect(sample.problems.map((p) => p.kind)).to.deep.equal(['name_not_utf8']);
  });

  it('keeps the memory of a host pid that this namespace cannot see (B01)', async () => {
    const state = jasperState();
    state.gpus = [gpu(0)];
    state.processes = [
      {
        gpu: 0,
        pid: 4_000_001,
        type: 'compute',
        usedBytes: 1_061_158_912,
        name: 'python',
        hostPid: true,
      },
    ];
    write(state);
    const { source } = open();

    const sample = await sampleOk(source);

    expect(sample.gpus[0]?.processes).to.deep.equal([
      { pid: 4_000_001, type: 'compute', usedBytes: 1_061_158_912, name: null },
    ]);
  });
});
