/**
 * Real kills: real child processes registered in the fake GPU's state as
 * offenders; the fake GPU frees a process's memory when it dies. The guard
 * must kill the right one, leave the others alive, and never signal a pid
 * whose identity changed. Timers are shortened so each test takes about a
 * second of real time.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSystemClock } from '../../../shared/src/clock.ts';
import { ConfigNode } from '../../../shared/src/config.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import type { GuardEvent } from '../../../shared/src/messages.ts';
import { parseGuardConfig } from '../../../agent/src/guard/guard-config.ts';
import { readBootId } from '../../../agent/src/gpu/proc-identity.ts';
import { createIdentityReader } from '../../../agent/src/guard/identity-reader.ts';
import { createSignaller } from '../../../agent/src/guard/signaller.ts';
import { createGuardRuntime } from '../../../agent/src/guard/runtime.ts';
import type { GuardRuntimeDeps } from '../../../agent/src/guard/runtime-deps.ts';
import {
  isProcessAlive,
  jasperState,
  writeGpuState,
} from '../../fakes/gpu-state.ts';
import { H1, MIB } from './fake-host.ts';
import { fakeGpuSampler } from './fake-gpu-sampler.ts';

const IGNORE_TERM =
  "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);";

describe('guard real kills', function () {
  this.timeout(15_000);
  let dir: string;
  let stateFile: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gpuwarden-guard-'));
    stateFile = path.join(dir, 'gpu-state');
  });

  afterEach(() => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null)
        child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** Spawns an offender and registers it on GPU 0 with `mib`. */
  async function offender(mib: number, ignoresTerm = false): Promise<number> {
    const child = ignoresTerm
      ? spawn(process.execPath, ['-e', IGNORE_TERM], { stdio: 'ignore' })
      : spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(child);
    await new Promise((resolve) => child.once('spawn', resolve));
    // Let node install its SIGTERM handler before the guard may signal it.
    if (ignoresTerm) await new Promise((r) => setTimeout(r, 300));
    return child.pid ?? -1;
  }

  function register(entries: { pid: number; mib: number }[]): void {
    const state = jasperState();
    state.processes = entries.map(({ pid, mib }) => ({
      gpu: 0,
      pid,
      type: 'compute',
      usedBytes: mib * MIB,
      name: `offender-${pid}`,
    }));
    writeGpuState(stateFile, state);
  }

  async function run(
    reserveMib: number,
    overrides: Partial<GuardRuntimeDeps> = {},
  ) {
    const fs = createNodeFs();
    const bootId = await readBootId({ fs });
    const config = parseGuardConfig(
      new ConfigNode(
        {
          mode: 'enforce',
          reservations: [{ gpu: 0, reserve: `${reserveMib}MiB` }],
          eligible: { users: [os.userInfo().username] },
          grace: { hard: '300ms', hardSamples: 2 },
          kill: {
            termGrace: '800ms',
            killGrace: '2s',
            pollInterval: '50ms',
            releaseTimeout: '2s',
          },
        },
        'guard',
      ),
    );
    const events: GuardEvent[] = [];
    const sample = fakeGpuSampler(stateFile);
    const runtime = createGuardRuntime(config, {
      node: 'jasper',
      self: { pid: process.pid, ppid: process.ppid },
      bootId,
      sample,
      readIdentity: createIdentityReader({ fs }),
      signal: createSignaller({
        selfPid: process.pid,
        parentPid: process.ppid,
      }),
      clock: createSystemClock(),
      logger: createSilentLogger(),
      fs,
      emit: (e) => events.push(e),
      auditFile: path.join(dir, 'guard-audit.jsonl'),
      ...overrides,
    });
    for (let i = 0; i < 12; i += 1) {
      await runtime.onSample(await sample(), H1);
      await new Promise((r) => setTimeout(r, 100));
    }
    await runtime.whenIdle();
    return events;
  }

  it('kills the smallest process that restores the reservation and leaves the others alive', async () => {
    const [big, right, small] = [
      await offender(3072),
      await offender(2048),
      await offender(512),
    ];
    register([
      { pid: big!, mib: 3072 },
      { pid: right!, mib: 2048 },
      { pid: small!, mib: 512 },
    ]);

    const events = await run(18700);

    expect(isProcessAlive(right!)).to.equal(false);
    expect(isProcessAlive(big!)).to.equal(true);
    expect(isProcessAlive(small!)).to.equal(true);
    const signals = events.filter((e) => e.kind === 'signal');
    expect(signals.map((e) => e.process?.pid)).to.deep.equal([right]);
    expect(events.find((e) => e.kind === 'freed')?.freedBytes).to.equal(
      2048 * MIB,
    );
  });

  it('escalates to SIGKILL for a process that ignores SIGTERM', async () => {
    const pid = await offender(3072, true);
    register([{ pid, mib: 3072 }]);

    const events = await run(21200);

    expect(isProcessAlive(pid)).to.equal(false);
    expect(
      events.filter((e) => e.kind === 'kill').map((e) => e.process?.pid),
    ).to.deep.equal([pid]);
    expect(events.find((e) => e.kind === 'freed')?.freedBytes).to.equal(
      3072 * MIB,
    );
  });

  it('signals nothing when the pid now belongs to another process', async () => {
    const pid = await offender(3072);
    register([{ pid, mib: 3072 }]);
    const readIdentity = createIdentityReader({ fs: createNodeFs() });
    const reused = async (p: number) => {
      const identity = await readIdentity(p);
      return (
        identity && { ...identity, startTimeTicks: identity.startTimeTicks + 1 }
      );
    };

    const events = await run(21200, { readIdentity: reused });

    expect(isProcessAlive(pid)).to.equal(true);
    expect(events.map((e) => e.kind)).to.not.include('signal');
    const abort = events.find((e) => e.kind === 'abort');
    expect(abort?.details.outcome).to.include({ reason: 'identity_mismatch' });
  });
});
