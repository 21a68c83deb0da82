import { expect } from 'chai';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSmiSource,
  DEFAULT_SMI_TIMEOUT_MS,
} from '../../../agent/src/gpu/smi-source.ts';
import { createSystemClock } from '../../../shared/src/clock.ts';
import { createExec } from '../../../shared/src/exec.ts';
import type {
  Exec,
  ExecOptions,
  ExecResult,
} from '../../../shared/src/exec.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';
import { jasperState, writeGpuState } from '../../fakes/gpu-state.ts';
import type { FakeGpuState } from '../../fakes/gpu-state.ts';
import { FAKE_SMI_PATH, smiFixture } from '../../fakes/nvidia-smi/fixture.ts';

const MIB = 2 ** 20;
const GIB = 2 ** 30;
const OPTIONS = { nvidiaSmiPath: 'nvidia-smi', timeoutMs: 5000 };

function finished(
  stdout: Buffer | string,
  exitCode: number | null = 0,
): ExecResult {
  return {
    exitCode,
    signal: null,
    timedOut: false,
    stdout: Buffer.from(stdout),
    stderr: '',
    spawnError: null,
    durationMs: 5,
  };
}

interface Call {
  file: string;
  args: readonly string[];
  options: ExecOptions;
}

/** An Exec that records calls and answers when the test says so. */
function scriptedExec(answers: ExecResult[]) {
  const calls: Call[] = [];
  const releases: (() => void)[] = [];
  const exec: Exec = (file, args, options) => {
    calls.push({ file, args, options });
    const answer = answers.shift() ?? finished('', 1);
    return new Promise((resolve) => releases.push(() => resolve(answer)));
  };
  const releaseAll = () => releases.splice(0).forEach((release) => release());
  return { exec, calls, releaseAll };
}

describe('createSmiSource()', () => {
  const t4 = smiFixture('xml-tesla-t4-driver515-v11-procs-G-and-C.xml');

  it('runs nvidia-smi -q -x without a shell, with LC_ALL=C and the timeout', async () => {
    const scripted = scriptedExec([finished(t4)]);
    const source = createSmiSource(
      { nvidiaSmiPath: '/usr/bin/nvidia-smi', timeoutMs: 1234 },
      {
        exec: scripted.exec,
        clock: new FakeClock(),
        logger: createSilentLogger(),
      },
    );

    const pending = source.sample();
    scripted.releaseAll();
    const result = await pending;

    expect(scripted.calls).to.deep.equal([
      {
        file: '/usr/bin/nvidia-smi',
        args: ['-q', '-x'],
        options: { timeoutMs: 1234, env: { LC_ALL: 'C' } },
      },
    ]);
    expect(
      result.ok && result.value.gpus[0]?.processes.map((p) => p.pid),
    ).to.deep.equal([675, 5762]);
    expect(DEFAULT_SMI_TIMEOUT_MS).to.equal(5000);
  });

  it('joins a run in flight instead of starting a second one', async () => {
    const scripted = scriptedExec([finished(t4), finished(t4)]);
    const source = createSmiSource(OPTIONS, {
      exec: scripted.exec,
      clock: new FakeClock(),
      logger: createSilentLogger(),
    });

    const first = source.sample();
    const second = source.sample();
    expect(scripted.calls).to.have.length(1);
    scripted.releaseAll();
    const [a, b] = await Promise.all([first, second]);
    const third = source.sample();
    scripted.releaseAll();
    await third;

    expect(a).to.equal(b);
    expect(scripted.calls).to.have.length(2);
  });

  it('classifies an error exit and never parses its text', async () => {
    const text = smiFixture(
      'err-driver-library-version-mismatch-exit18-gputil-55.txt',
    );
    const scripted = scriptedExec([finished(text, 18)]);
    const source = createSmiSource(OPTIONS, {
      exec: scripted.exec,
      clock: new FakeClock(),
      logger: createSilentLogger(),
    });

    const pending = source.sample();
    scripted.releaseAll();
    const result = await pending;

    expect(!result.ok && result.error.kind).to.equal('driver_mismatch');
  });

  it('reports a program that cannot start and a run ended by a signal', async () => {
    const scripted = scriptedExec([
      { ...finished('', null), spawnError: 'spawn nvidia-smi ENOENT' },
      { ...finished('', null), signal: 'SIGSEGV' },
    ]);
    const source = createSmiSource(OPTIONS, {
      exec: scripted.exec,
      clock: new FakeClock(),
      logger: createSilentLogger(),
    });

    const first = source.sample();
    scripted.releaseAll();
    const a = await first;
    const second = source.sample();
    scripted.releaseAll();
    const b = await second;

    expect(!a.ok && a.error.kind).to.equal('smi_not_runnable');
    expect(!a.ok && a.error.message).to.include('ENOENT');
    expect(!b.ok && b.error.kind).to.equal('smi_killed');
  });

  it('returns a failure when exec throws', async () => {
    const exec: Exec = () => Promise.reject(new Error('boom'));
    const source = createSmiSource(OPTIONS, {
      exec,
      clock: new FakeClock(),
      logger: createSilentLogger(),
    });

    const result = await source.sample();

    expect(!result.ok && result.error.kind).to.equal('smi_not_runnable');
  });

  it('logs a failure once while it repeats, then the recovery', async () => {
    const error = finished(
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
      9,
    );
    const scripted = scriptedExec([error, error, finished(t4)]);
    const { logger, lines } = createMemoryLogger('info');
    const source = createSmiSource(OPTIONS, {
      exec: scripted.exec,
      clock: new FakeClock(),
      logger,
    });

    for (let i = 0; i < 3; i += 1) {
      const pending = source.sample();
      scripted.releaseAll();
      await pending;
    }

    expect(lines.map((l) => [l.msg, l.kind])).to.deep.equal([
      ['nvidia-smi failed', 'driver_not_loaded'],
      ['nvidia-smi recovered', undefined],
    ]);
  });
});

describe('createSmiSource() with the fake nvidia-smi', function () {
  this.timeout(20_000);
  let dir: string;
  let stateFile: string;
  let logFile: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gpuwarden-smi-'));
    stateFile = join(dir, 'gpu.state');
    logFile = join(dir, 'runs.log');
  });

  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  function sourceWith(env: Record<string, string> = {}, timeoutMs = 5000) {
    const real = createExec();
    const exec: Exec = (file, args, options) =>
      real(file, args, {
        ...options,
        env: {
          ...options.env,
          GPUWARDEN_FAKE_GPU_STATE: stateFile,
          GPUWARDEN_FAKE_SMI_LOG: logFile,
          ...env,
        },
      });
    return createSmiSource(
      { nvidiaSmiPath: FAKE_SMI_PATH, timeoutMs },
      { exec, clock: createSystemClock(), logger: createSilentLogger() },
    );
  }

  function startOffender(): ChildProcess {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(child);
    return child;
  }

  function stateWith(pid: number): FakeGpuState {
    const state = jasperState();
    const gpu = state.gpus[0]!;
    gpu.baselineBytes = 20 * GIB;
    gpu.reservedBytes = 346 * MIB;
    state.processes.push({
      gpu: 0,
      pid,
      type: 'compute',
      usedBytes: 3 * GIB,
      name: '/usr/bin/code-tunnel',
    });
    return state;
  }

  it('reads the values of the state file', async () => {
    const offender = startOffender();
    writeGpuState(stateFile, stateWith(offender.pid!));

    const result = await sourceWith().sample();

    expect(result.ok).to.equal(true);
    if (!result.ok) return;
    const gpu = result.value.gpus[0];
    expect(result.value.driverVersion).to.equal('550.54.14');
    expect(gpu).to.deep.include({
      uuid: 'GPU-4a3f7c1e-8b2d-4e6f-9a1c-3d5e7f9b2c4a',
      name: 'NVIDIA GeForce RTX 4090',
      temperatureC: 45,
      powerWatts: 30,
      migEnabled: false,
    });
    expect(gpu?.memory).to.deep.equal({
      totalBytes: 24 * GIB,
      usedBytes: 23 * GIB,
      freeBytes: 24 * GIB - 23 * GIB - 346 * MIB,
      reservedBytes: 346 * MIB,
    });
    expect(gpu?.processes).to.deep.equal([
      {
        pid: offender.pid,
        type: 'compute',
        usedBytes: 3 * GIB,
        name: '/usr/bin/code-tunnel',
      },
    ]);
  });

  it('frees the memory of a registered process once it is killed', async () => {
    const offender = startOffender();
    writeGpuState(stateFile, stateWith(offender.pid!));
    const source = sourceWith();
    const before = await source.sample();

    const exited = new Promise((resolve) => offender.once('exit', resolve));
    offender.kill('SIGKILL');
    await exited;
    const after = await source.sample();

    expect(before.ok && before.value.gpus[0]?.processes).to.have.length(1);
    expect(after.ok && after.value.gpus[0]?.processes).to.deep.equal([]);
    expect(after.ok && after.value.gpus[0]?.memory.usedBytes).to.equal(
      20 * GIB,
    );
  });

  it('kills a hanging nvidia-smi at the timeout and says so', async () => {
    writeGpuState(stateFile, jasperState());
    const source = sourceWith({ GPUWARDEN_FAKE_SMI_HANG_MS: '15000' }, 700);
    const started = Date.now();

    const result = await source.sample();

    expect(!result.ok && result.error.kind).to.equal('timeout');
    expect(Date.now() - started).to.be.below(5000);
    const [start] = readFileSync(logFile, 'utf8').trim().split('\n');
    const pid = Number(start?.split(' ')[1]);
    expect(() => process.kill(pid, 0)).to.throw();
  });

  it('classifies the driver-not-loaded output of the fake', async () => {
    writeGpuState(stateFile, {
      ...jasperState(),
      initError: 'NVML_ERROR_DRIVER_NOT_LOADED',
    });

    const result = await sourceWith().sample();

    expect(!result.ok && result.error).to.include({
      kind: 'driver_not_loaded',
      retryable: true,
    });
  });

  it('puts a process on the MIG device of its GPU instance', async () => {
    const offender = startOffender();
    const state = stateWith(offender.pid!);
    state.gpus[0]!.mig = '1';
    state.processes[0]!.gi = 2;
    state.processes[0]!.ci = 0;
    state.migDevices = [];
    state.migDevices.push({
      gpu: 0,
      index: 0,
      uuid: 'MIG-14d1820a-e166-b6a4-e993-80601e562048',
      name: 'MIG 3g.12gb',
      gi: 2,
      ci: 0,
      totalBytes: 12 * GIB,
      baselineBytes: 0,
    });
    writeGpuState(stateFile, state);

    const result = await sourceWith().sample();

    expect(result.ok).to.equal(true);
    if (!result.ok) return;
    const [parent, mig] = result.value.gpus;
    expect(parent?.migEnabled).to.equal(true);
    expect(parent?.processes).to.deep.equal([]);
    expect(mig?.uuid).to.equal(
      'MIG-GPU-4a3f7c1e-8b2d-4e6f-9a1c-3d5e7f9b2c4a/2/0',
    );
    expect(mig?.memory.usedBytes).to.equal(3 * GIB);
    expect(mig?.processes.map((p) => p.pid)).to.deep.equal([offender.pid]);
  });

  it('classifies a lost GPU', async () => {
    const state = jasperState();
    state.gpus[0]!.lost = true;
    writeGpuState(stateFile, state);

    const result = await sourceWith().sample();

    expect(!result.ok && result.error.kind).to.equal('gpu_lost');
  });

  it('never runs two nvidia-smi at once', async () => {
    writeGpuState(stateFile, jasperState());
    const source = sourceWith({ GPUWARDEN_FAKE_SMI_HANG_MS: '200' });

    const results = await Promise.all([
      source.sample(),
      source.sample(),
      source.sample(),
    ]);
    await source.sample();

    const events = readFileSync(logFile, 'utf8').trim().split('\n');
    expect(results.every((r) => r.ok)).to.equal(true);
    expect(events.map((e) => e.split(' ')[0])).to.deep.equal([
      'start',
      'end',
      'start',
      'end',
    ]);
  });
});
