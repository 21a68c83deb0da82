/**
 * research/enforcement.md §9, the cases that act: TC2, TC3, TC5 (after the
 * restore), TC10, TC12, TC13 and TC14, through the guard runtime on a
 * simulated host whose processes die when signalled.
 */
import { expect } from 'chai';
import { NO_HARM_EVIDENCE } from '../../../agent/src/guard/harm.ts';
import {
  H1,
  H2,
  MIB,
  caseConfig,
  gnomeShell,
  ollamaRunner,
  tunnelChild,
  xorg,
} from './fake-host.ts';
import type { FakeHost, FakeProc } from './fake-host.ts';
import { AUDIT_FILE, harness } from './runtime-harness.ts';

const TC2_PROCS = (): FakeProc[] => [
  {
    pid: 1201,
    user: 'ollama',
    mib: 0,
    name: 'ollama',
    exe: '/usr/local/bin/ollama',
    unit: 'ollama.service',
  },
  tunnelChild(),
  xorg(),
  gnomeShell(),
];

describe('guard runtime on the §9 cases', () => {
  it('TC2: sends SIGTERM to the tunnel child only and verifies the VRAM came back', async () => {
    const h = harness(caseConfig(), TC2_PROCS());

    await h.tick(14, H1);
    await h.runtime.whenIdle();

    expect(h.host.signals).to.deep.equal([{ pid: 77310, signal: 'SIGTERM' }]);
    expect(h.host.isAlive(1420)).to.equal(true);
    expect(h.host.isAlive(2113)).to.equal(true);
    const freed = h.events.find((e) => e.kind === 'freed');
    expect(freed?.freedBytes).to.equal(3072 * MIB);
    expect(freed?.process?.pid).to.equal(77310);
    // The freed event reports the free memory measured after the exit.
    const before = h.events.find((e) => e.kind === 'signal')?.freeBytes ?? 0;
    expect(freed?.freeBytes).to.equal(before + 3072 * MIB);
    const warning = h.events.find((e) => e.kind === 'warning');
    expect(warning?.process?.user).to.equal('dev');
    expect(warning?.message).to.contain('3.0 GiB').and.contain('SIGTERM now');
    expect(h.kinds().indexOf('warning')).to.be.lessThan(
      h.kinds().indexOf('signal'),
    );
    const plan = h.events.find((e) => e.kind === 'plan');
    expect(plan?.message).to.equal(
      'GPU 0: plan: stop python3 (pid 77310) to restore the ollama reservation (210 MiB short)',
    );
    expect(warning?.message).to.contain('is 210 MiB short');
  });

  it('TC2: writes every decision to the audit log with the policy hash', async () => {
    const h = harness(caseConfig(), TC2_PROCS());

    await h.tick(14, H1);
    await h.runtime.whenIdle();

    const lines = h.fs.lines(AUDIT_FILE);
    expect(lines.map((l) => l.kind)).to.deep.equal(h.kinds());
    expect(new Set(lines.map((l) => l.policyHash))).to.deep.equal(
      new Set([h.runtime.summary().policyHash]),
    );
    const plan = lines.find((l) => l.kind === 'plan') as {
      details: { excluded: { pid: number; reason: string }[]; action: string };
    };
    expect(plan.details.action).to.equal('kill');
    expect(plan.details.excluded).to.deep.include({
      pid: 1420,
      name: 'Xorg',
      user: 'root',
      usedBytes: 312 * MIB,
      reason: 'display_server',
    });
  });

  it('TC3: in observe mode records would_kill and tells nobody', async () => {
    const h = harness(caseConfig({ mode: 'observe' }), TC2_PROCS());

    await h.tick(20, H1);

    expect(h.host.signals).to.deep.equal([]);
    expect(h.kinds()).to.not.include('warning');
    expect(h.hooked).to.deep.equal([]);
    const plan = h.events.find((e) => e.kind === 'plan');
    expect(plan?.details.action).to.equal('would_kill');
    expect(plan?.message).to.equal(
      'GPU 0: would stop python3 (pid 77310) to restore the ollama reservation (210 MiB short), but the guard only observes',
    );
  });

  it('TC3: in warn mode warns the owner once per 10 minutes and signals nothing', async () => {
    const h = harness(caseConfig({ mode: 'warn' }), TC2_PROCS());

    await h.tick(9 * 60, H1);
    const early = h.events.filter((e) => e.kind === 'warning').length;
    await h.tick(2 * 60, H1);

    expect(h.host.signals).to.deep.equal([]);
    expect(early).to.equal(1);
    const warnings = h.events.filter((e) => e.kind === 'warning');
    expect(warnings).to.have.length(2);
    expect(warnings[0]?.process?.pid).to.equal(77310);
    expect(warnings[0]?.message).to.contain('nothing will be killed');
    const plan = h.events.find((e) => e.kind === 'plan');
    expect(plan?.message).to.equal(
      'GPU 0: warned about python3 (pid 77310), which holds 3.0 GiB of the ollama reservation',
    );
    expect(h.hooked.map((e) => e.kind)).to.include('warning');
  });

  it('forces warn when the kill-switch file exists', async () => {
    const config = caseConfig();
    const h = harness(config, TC2_PROCS());
    h.fs.files.set(config.killSwitchFile, '');

    await h.tick(20, H1);

    expect(h.host.signals).to.deep.equal([]);
    const warning = h.events.find((e) => e.kind === 'warning');
    expect(warning?.mode).to.equal('warn');
  });

  it('TC5: alerts with the exact fix when the model stays partly on the CPU', async () => {
    const h = harness(caseConfig(), tc5Procs(), { unattributedMib: 250 });

    await h.tick(12, H2);
    await h.runtime.whenIdle();
    await h.tick(20, H2);

    expect(h.host.signals).to.deep.equal([{ pid: 5120, signal: 'SIGTERM' }]);
    expect(h.host.isAlive(6240)).to.equal(true);
    const alert = h.events.filter((e) => e.kind === 'offload_persists');
    expect(alert).to.have.length(1);
    expect(alert[0]?.message)
      .to.contain('"keep_alive":0')
      .and.contain('qwen2.5:32b');
  });

  it('TC5: unloads and reloads the model when reloadAfterRestore is set', async () => {
    const config = caseConfig({ reloadAfterRestore: true });
    const h = harness(config, tc5Procs(), { unattributedMib: 250 });

    await h.tick(12, H2);
    await h.runtime.whenIdle();
    await h.tick(20, H2);

    expect(h.reloads).to.deep.equal(['qwen2.5:32b']);
    expect(h.kinds()).to.include('reload').and.not.include('offload_persists');
  });

  it('TC10: sends nothing when the pid was reused between plan and signal', async () => {
    const overrides = (host: FakeHost) => ({
      readIdentity: async (pid: number) =>
        pid === 77310
          ? { pid, startTimeTicks: 1187734, bootId: 'x' }
          : host.readIdentity(pid),
    });
    const g = harness(caseConfig(), TC2_PROCS(), { overrides });

    await g.tick(16, H1);
    await g.runtime.whenIdle();

    expect(g.host.signals).to.deep.equal([]);
    const aborts = g.events.filter((e) => e.kind === 'abort');
    expect(aborts.length).to.be.greaterThan(1);
    expect(aborts[0]?.details.outcome).to.include({
      result: 'aborted',
      reason: 'identity_mismatch',
    });
  });

  it('TC10: sends nothing when the driver no longer lists the victim', async () => {
    const sample = (host: FakeHost) => async () => {
      const snapshot = host.snapshot();
      for (const gpu of snapshot.gpus) {
        gpu.processes = gpu.processes.filter((p) => p.pid !== 77310);
      }
      return snapshot;
    };
    const g = harness(caseConfig(), TC2_PROCS(), {
      overrides: (host) => ({ sample: sample(host) }),
    });

    await g.tick(14, H1);
    await g.runtime.whenIdle();

    expect(g.host.signals).to.deep.equal([]);
    const abort = g.events.find((e) => e.kind === 'abort');
    expect(abort?.details.outcome).to.include({ reason: 'not_on_gpu' });
  });

  it('TC11: warns operators naming the owner who is not eligible, and kills nothing', async () => {
    const h = harness(caseConfig(), [
      {
        pid: 8800,
        user: 'carol',
        mib: 3500,
        name: 'python3',
        command: 'python3 whisper_server.py',
      },
      xorg(),
      gnomeShell(),
    ]);

    await h.tick(14, H1);

    expect(h.host.signals).to.deep.equal([]);
    const alert = h.hooked.find((e) => e.kind === 'infeasible');
    expect(alert?.process).to.include({ pid: 8800, user: 'carol' });
    expect(alert?.message).to.contain('not_eligible');
  });

  it('TC12: stops killing when a supervisor respawns the victim and says how to stop it', async () => {
    const h = harness(caseConfig(), TC2_PROCS());
    await h.tick(14, H1);
    await h.runtime.whenIdle();
    await h.tick(120, NO_HARM_EVIDENCE);
    h.host.add(tunnelChild(78001, 1_200_000));

    await h.tick(20, H1);

    expect(h.host.signals).to.deep.equal([{ pid: 77310, signal: 'SIGTERM' }]);
    expect(h.host.isAlive(78001)).to.equal(true);
    const breaker = h.events.find((e) => e.kind === 'breaker');
    expect(breaker?.message)
      .to.contain('code-tunnel.service')
      .and.contain('CUDA_VISIBLE_DEVICES=');
  });

  it('TC13: kills two victims one at a time and spares the third', async () => {
    const h = harness(caseConfig(), [
      {
        pid: 7001,
        user: 'dev',
        mib: 2600,
        name: 'python',
        command: 'python A',
      },
      {
        pid: 7002,
        user: 'dev',
        mib: 1900,
        name: 'python',
        command: 'python B',
      },
      { pid: 7003, user: 'dev', mib: 900, name: 'python', command: 'python C' },
      { pid: 7100, user: 'root', mib: 1500, name: 'svc' },
      xorg(),
    ]);

    await h.tick(12, H1);
    await h.runtime.whenIdle();

    expect(h.host.signals.map((s) => s.pid)).to.deep.equal([7001, 7002]);
    const acts = h.events
      .filter((e) => e.kind === 'signal' || e.kind === 'freed')
      .map((e) => `${e.kind} ${e.process?.pid}`);
    expect(acts).to.deep.equal([
      'signal 7001',
      'freed 7001',
      'signal 7002',
      'freed 7002',
    ]);
    expect(h.host.isAlive(7003)).to.equal(true);
    expect(h.host.isAlive(7100)).to.equal(true);
  });

  it('TC14: escalates to SIGKILL after the term grace when SIGTERM is ignored', async () => {
    const h = harness(caseConfig(), [
      { ...tunnelChild(), ignoresTerm: true },
      xorg(),
    ]);

    await h.tick(12, H1);
    await h.clock.advance(12_000);
    await h.runtime.whenIdle();

    expect(h.host.signals.map((s) => s.signal)).to.deep.equal([
      'SIGTERM',
      'SIGKILL',
    ]);
    const kill = h.events.find((e) => e.kind === 'kill');
    const term = h.events.find((e) => e.kind === 'signal');
    expect((kill?.atMs ?? 0) - (term?.atMs ?? 0)).to.be.within(10_000, 10_500);
    expect(h.events.find((e) => e.kind === 'freed')?.freedBytes).to.equal(
      3072 * MIB,
    );
  });

  it('TC14: marks a process that survives SIGKILL unkillable and stops', async () => {
    const h = harness(caseConfig(), [
      { ...tunnelChild(), unkillable: true },
      xorg(),
    ]);

    await h.tick(12, H1);
    await h.clock.advance(17_000);
    await h.runtime.whenIdle();

    const abort = h.events.find((e) => e.kind === 'abort');
    expect(abort?.details.outcome).to.include({ result: 'unkillable' });
  });

  it('TC14: reports VRAM that is not released after the exit', async () => {
    const h = harness(caseConfig(), [
      { ...tunnelChild(), keepsMemory: true },
      xorg(),
    ]);

    await h.tick(12, H1);
    await h.clock.advance(12_000);
    await h.runtime.whenIdle();

    const abort = h.events.find((e) => e.kind === 'abort');
    expect(abort?.details.outcome).to.include({ result: 'vram_not_released' });
  });

  it('TC14: never sends SIGKILL in enforce-term', async () => {
    const config = caseConfig({ mode: 'enforce-term' });
    const h = harness(config, [
      { ...tunnelChild(), ignoresTerm: true },
      xorg(),
    ]);

    await h.tick(12, H1);
    await h.clock.advance(12_000);
    await h.runtime.whenIdle();

    expect(h.host.signals.map((s) => s.signal)).to.deep.equal(['SIGTERM']);
    const abort = h.events.find((e) => e.kind === 'abort');
    expect(abort?.details.outcome).to.include({ result: 'term_ignored' });
    const plan = h.events.find((e) => e.kind === 'plan');
    expect(plan?.message).to.equal(
      'GPU 0: plan: send SIGTERM to python3 (pid 77310) to restore the ollama reservation (112 MiB short); no SIGKILL in enforce-term mode',
    );
  });
});

function tc5Procs(): FakeProc[] {
  return [
    ollamaRunner(48211, 18100),
    {
      pid: 5120,
      user: 'alice',
      mib: 4200,
      name: 'python3',
      unit: 'session-4.scope',
    },
    {
      pid: 6240,
      user: 'bob',
      mib: 1500,
      name: 'python',
      unit: 'session-7.scope',
    },
    xorg(),
  ];
}
