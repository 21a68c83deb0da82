import { expect } from 'chai';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import { Enforcer } from '../../../agent/src/guard/enforcer.ts';
import { createIdentityReader } from '../../../agent/src/guard/identity-reader.ts';
import type { Candidate } from '../../../agent/src/guard/types.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import {
  BOOT_ID,
  FakeHost,
  GPU_UUID,
  MIB,
  tunnelChild,
  xorg,
} from './fake-host.ts';
import type { FakeProc } from './fake-host.ts';
import { MemoryFs } from './memory-fs.ts';

function setup(victim: FakeProc) {
  const clock = new FakeClock();
  const host = new FakeHost([victim, xorg()], {}, () => clock.nowMs());
  const options = {
    allowKill: true,
    termGraceMs: 10_000,
    killGraceMs: 5_000,
    releaseTimeoutMs: 10_000,
    pollIntervalMs: 250,
    releaseRatio: 0.75,
  };
  const deps = {
    sample: host.sample,
    readIdentity: host.readIdentity,
    signal: host.signal,
    clock,
    logger: createSilentLogger(),
  };
  const process = host
    .snapshot()
    .gpus[0]!.processes.find((p) => p.pid === victim.pid)!;
  const candidate: Candidate = {
    process,
    usedBytes: 3072 * MIB,
    startTimeTicks: process.startTimeTicks ?? 0,
    culprit: true,
    respawnKey: 'k',
  };
  return { clock, host, options, deps, candidate };
}

describe('Enforcer', () => {
  it('frees the VRAM with one SIGTERM when the victim obeys', async () => {
    const s = setup(tunnelChild());
    const enforcer = new Enforcer(s.options, s.deps);

    const outcome = await enforcer.execute({
      gpuUuid: GPU_UUID,
      victim: s.candidate,
      expectedBootId: BOOT_ID,
    });

    expect(outcome.result).to.equal('freed');
    expect(outcome.freedBytes).to.equal(3072 * MIB);
    expect(s.host.signals).to.deep.equal([{ pid: 77310, signal: 'SIGTERM' }]);
  });

  it('aborts without a signal when the boot id differs', async () => {
    const s = setup(tunnelChild());
    const enforcer = new Enforcer(s.options, s.deps);

    const outcome = await enforcer.execute({
      gpuUuid: GPU_UUID,
      victim: s.candidate,
      expectedBootId: 'another-boot',
    });

    expect(outcome).to.include({
      result: 'aborted',
      reason: 'identity_mismatch',
    });
    expect(s.host.signals).to.deep.equal([]);
  });

  it('aborts without a signal when /proc, read by the sampler’s readers, shows another boot', async () => {
    const s = setup(tunnelChild());
    const fs = new MemoryFs();
    fs.files.set(
      '/proc/77310/stat',
      '77310 (code-tunnel) S 41800 77310 77310 0 -1 0 0 0 0 0 1 1 0 0 20 0 4 0 991204 1 1 1',
    );
    fs.files.set('/proc/sys/kernel/random/boot_id', 'another-boot\n');
    const readIdentity = createIdentityReader({ fs });
    const enforcer = new Enforcer(s.options, { ...s.deps, readIdentity });

    const outcome = await enforcer.execute({
      gpuUuid: GPU_UUID,
      victim: s.candidate,
      expectedBootId: BOOT_ID,
    });

    expect(outcome).to.include({
      result: 'aborted',
      reason: 'identity_mismatch',
    });
    expect(s.host.signals).to.deep.equal([]);
  });

  it('sends no SIGKILL when the pid changed hands during the term grace', async () => {
    const s = setup({ ...tunnelChild(), ignoresTerm: true });
    let reused = false;
    const readIdentity = async (pid: number) => {
      const identity = await s.host.readIdentity(pid);
      return identity && reused
        ? { ...identity, startTimeTicks: 1187734 }
        : identity;
    };
    const enforcer = new Enforcer(s.options, { ...s.deps, readIdentity });

    const done = enforcer.execute({
      gpuUuid: GPU_UUID,
      victim: s.candidate,
      expectedBootId: BOOT_ID,
    });
    await s.clock.advance(3_000);
    reused = true;
    await s.clock.advance(20_000);
    const outcome = await done;

    expect(s.host.signals).to.deep.equal([{ pid: 77310, signal: 'SIGTERM' }]);
    expect(outcome.result).to.not.equal('freed');
  });

  it('reports a signal the kernel refused', async () => {
    const s = setup(tunnelChild());
    const enforcer = new Enforcer(s.options, {
      ...s.deps,
      signal: () => ({
        ok: false,
        error: 'SIGTERM to pid 77310 failed: EPERM',
      }),
    });

    const outcome = await enforcer.execute({
      gpuUuid: GPU_UUID,
      victim: s.candidate,
      expectedBootId: BOOT_ID,
    });

    expect(outcome).to.include({
      result: 'signal_failed',
      reason: 'SIGTERM to pid 77310 failed: EPERM',
    });
  });
});
