/**
 * research/enforcement.md §9, the cases the planner decides alone: TC1,
 * TC4–TC9, TC11 and TC15. (TC2, TC3, TC10, TC12–TC14 act, and live in
 * cases-enforce.test.ts.) Each drives the Guard with a sample every 2 s.
 */
import { expect } from 'chai';
import { Guard } from '../../../agent/src/guard/guard.ts';
import type { GuardConfig } from '../../../agent/src/guard/guard-config.ts';
import { NO_HARM_EVIDENCE } from '../../../agent/src/guard/harm.ts';
import type { HarmSignals } from '../../../agent/src/guard/harm.ts';
import type {
  GpuDecision,
  WorkloadState,
} from '../../../agent/src/guard/types.ts';
import {
  FakeHost,
  H1,
  H2,
  MIB,
  caseConfig,
  gnomeShell,
  ollamaRunner,
  tunnelChild,
  xorg,
} from './fake-host.ts';

const T0 = Date.parse('2026-03-02T13:47:00Z');
const SELF = { pid: 999_999, ppid: 999_998 };

/** Samples every `intervalMs` for `seconds`; the decisions for GPU 0. */
function drive(
  guard: Guard,
  host: FakeHost,
  harm: HarmSignals,
  options: { fromMs?: number; seconds: number; workload?: WorkloadState },
): GpuDecision[] {
  const fromMs = options.fromMs ?? T0;
  const out: GpuDecision[] = [];
  for (let t = 0; t <= options.seconds * 1000; t += 2000) {
    const nowMs = fromMs + t;
    const [d] = guard.evaluate({
      snapshot: host.snapshot(nowMs),
      harm,
      nowMs,
      workload: options.workload ?? null,
    });
    if (d) out.push(d);
  }
  return out;
}

function last(decisions: GpuDecision[]): GpuDecision {
  const d = decisions.at(-1);
  if (!d) throw new Error('no decision');
  return d;
}

function newGuard(config: GuardConfig = caseConfig()): Guard {
  return new Guard(config, { self: SELF });
}

describe('Guard on the §9 cases', () => {
  it('TC1: does nothing when the reservation is met', () => {
    const host = new FakeHost(
      [
        ollamaRunner(48211, 19870),
        xorg(),
        gnomeShell(),
        { pid: 3377, user: 'dev', mib: 210, name: 'firefox', type: 'graphics' },
      ],
      { unattributedMib: 300 },
    );

    const d = last(drive(newGuard(), host, H1, { seconds: 30 }));

    expect(d.math?.freeBytes).to.equal(3774 * MIB);
    expect(d.math?.availableBytes).to.equal(23132 * MIB);
    expect(d.math?.deficitBytes).to.equal(-2652 * MIB);
    expect(d.state).to.equal('ok');
    expect(d.verdict).to.equal('none');
    expect(d.plan.victims).to.deep.equal([]);
  });

  it('TC4: warns after the soft grace and never kills a breach without harm', () => {
    const host = new FakeHost(
      [ollamaRunner(48211, 19870), tunnelChild(), xorg(), gnomeShell()],
      { unattributedMib: 300 },
    );

    const decisions = drive(newGuard(), host, NO_HARM_EVIDENCE, {
      seconds: 70,
    });

    expect(last(decisions).math?.deficitBytes).to.equal(210 * MIB);
    expect(decisions.some((d) => d.verdict === 'kill')).to.equal(false);
    const firstWarn = decisions.findIndex((d) => d.verdict === 'warn');
    expect(firstWarn * 2).to.equal(60);
    expect(decisions[firstWarn]?.plan.victims[0]?.process.pid).to.equal(77310);
    expect(decisions[firstWarn - 1]?.holdReason).to.equal('soft_grace');
  });

  it('TC4: escalates to a kill once a harm signal holds', () => {
    const host = new FakeHost(
      [ollamaRunner(48211, 19870), tunnelChild(), xorg(), gnomeShell()],
      { unattributedMib: 300 },
    );
    const guard = newGuard();
    drive(guard, host, NO_HARM_EVIDENCE, { seconds: 20 });

    const d = last(
      drive(guard, host, H1, { fromMs: T0 + 22_000, seconds: 10 }),
    );

    expect(d.state).to.equal('hard_breach');
    expect(d.verdict).to.equal('kill');
  });

  it('TC5: chooses the one process that suffices and spares the other', () => {
    const host = new FakeHost(
      [
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
      ],
      { unattributedMib: 250 },
    );

    const d = last(drive(newGuard(), host, H2, { seconds: 12 }));

    expect(d.math?.deficitBytes).to.equal(2690 * MIB);
    expect(d.math?.needBytes).to.equal(3202 * MIB);
    expect(d.candidates.every((c) => !c.culprit)).to.equal(true);
    expect(d.verdict).to.equal('kill');
    expect(d.plan.victims.map((v) => v.process.pid)).to.deep.equal([5120]);
  });

  it('TC6: lets a spike shorter than the hard grace pass', () => {
    const host = new FakeHost([xorg(), gnomeShell()], { unattributedMib: 300 });
    const guard = newGuard();
    drive(guard, host, H1, { seconds: 10 });
    host.add({
      pid: 8123,
      user: 'dev',
      mib: 4096,
      name: 'python',
      command: 'python bench.py',
    });

    const during = drive(guard, host, H1, { fromMs: T0 + 12_000, seconds: 4 });
    host.remove(8123);
    const after = drive(guard, host, H1, { fromMs: T0 + 18_000, seconds: 0 });

    expect(last(during).math?.deficitBytes).to.equal(1234 * MIB);
    expect(during.map((d) => d.verdict)).to.deep.equal([
      'hold',
      'hold',
      'hold',
    ]);
    expect(last(during).holdReason).to.equal('hard_grace');
    expect(last(after).state).to.equal('recovering');
    expect(last(after).previousState).to.equal('soft_breach');
  });

  it('TC7: kills nothing when only display and graphics consumers hold the GPU', () => {
    const host = new FakeHost(
      [
        xorg(1800),
        gnomeShell(900),
        {
          pid: 2990,
          user: 'dev',
          mib: 650,
          name: 'steamwebhelper',
          type: 'graphics',
        },
      ],
      { unattributedMib: 300 },
    );

    const d = last(drive(newGuard(), host, H1, { seconds: 12 }));

    expect(d.math?.deficitBytes).to.equal(78 * MIB);
    expect(d.verdict).to.equal('infeasible');
    expect(d.plan.victims).to.deep.equal([]);
    expect(reasons(d)).to.deep.equal({
      1420: 'display_server',
      2113: 'display_server',
      2990: 'graphics_only',
    });
  });

  it('TC8: never kills for memory nobody is listed for', () => {
    const host = new FakeHost([xorg()], { unattributedMib: 4400 });

    const d = last(drive(newGuard(), host, H1, { seconds: 12 }));

    expect(d.math?.unattributedBytes).to.equal(4400 * MIB);
    expect(d.math?.deficitBytes).to.equal(1140 * MIB);
    expect(d.verdict).to.equal('infeasible');
    expect(d.plan.victims).to.deep.equal([]);
  });

  it('TC8: never kills a process whose memory the driver cannot tell (WDDM N/A)', () => {
    const host = new FakeHost(
      [{ pid: 2056, user: 'dev', mib: null, name: 'python3' }],
      { unattributedMib: 4400 },
    );

    const d = last(drive(newGuard(), host, H1, { seconds: 12 }));

    expect(d.math?.unknownProcesses).to.equal(1);
    expect(reasons(d)).to.deep.equal({ 2056: 'memory_unknown' });
    expect(d.plan.victims).to.deep.equal([]);
  });

  it('TC9: kills nothing when the eligible processes cannot restore the reservation', () => {
    const host = tc9Host();

    const d = last(drive(newGuard(), host, H1, { seconds: 12 }));

    expect(d.math?.deficitBytes).to.equal(740 * MIB);
    expect(d.verdict).to.equal('infeasible');
    expect(d.plan.feasible).to.equal(false);
    expect(d.plan.victims).to.deep.equal([]);
    expect(reasons(d)[9002]).to.equal('not_eligible');
  });

  it('TC9: takes the partial relief only when allowPartialRelief is on', () => {
    const config = caseConfig({ allowPartialRelief: true });

    const d = last(drive(newGuard(config), tc9Host(), H1, { seconds: 12 }));

    expect(d.plan.victims.map((v) => v.process.pid)).to.deep.equal([9001]);
  });

  it('TC11: does not kill a process whose owner is not eligible', () => {
    const host = new FakeHost(
      [
        {
          pid: 8800,
          user: 'carol',
          mib: 3500,
          name: 'python3',
          command: 'python3 whisper_server.py',
        },
        xorg(),
        gnomeShell(),
      ],
      { unattributedMib: 300 },
    );

    const d = last(drive(newGuard(), host, H1, { seconds: 12 }));

    expect(d.math?.deficitBytes).to.equal(638 * MIB);
    expect(d.verdict).to.equal('infeasible');
    expect(reasons(d)[8800]).to.equal('not_eligible');
  });

  it('TC11: does not kill root-owned or system.slice processes either', () => {
    const host = new FakeHost(
      [
        { pid: 8801, user: 'root', mib: 3500, name: 'python3' },
        {
          pid: 8802,
          user: 'bob',
          mib: 3500,
          name: 'svc',
          unit: 'svc.service',
          cgroup: '/system.slice/svc.service',
          container: 'docker-1a2b',
        },
      ],
      { unattributedMib: 300 },
    );

    const d = last(drive(newGuard(), host, H1, { seconds: 12 }));

    expect(reasons(d)).to.deep.equal({
      8801: 'not_eligible',
      8802: 'container',
    });
    expect(d.plan.victims).to.deep.equal([]);
  });

  it('TC15: never chooses another model of the protected workload', () => {
    const host = new FakeHost(
      [
        {
          ...ollamaRunner(48377, 9800),
          command: 'llama-server --model qwen2.5:14b',
        },
        xorg(),
      ],
      { unattributedMib: 300 },
    );

    const d = last(
      drive(newGuard(), host, H1, {
        seconds: 12,
        workload: { modelResident: false },
      }),
    );

    expect(d.math?.protectedBytes).to.equal(0);
    expect(d.math?.deficitBytes).to.equal(6840 * MIB);
    expect(reasons(d)[48377]).to.equal('protected_workload');
    expect(d.verdict).to.equal('infeasible');
  });
});

function tc9Host(): FakeHost {
  return new FakeHost(
    [
      {
        pid: 9001,
        user: 'dev',
        mib: 300,
        name: 'python',
        command: 'python notebook.py',
      },
      {
        pid: 9002,
        user: 'root',
        mib: 3400,
        name: 'frigate.detector',
        unit: 'frigate.service',
        cgroup: '/system.slice/frigate.service',
      },
      xorg(),
    ],
    { unattributedMib: 300 },
  );
}

function reasons(d: GpuDecision): Record<number, string> {
  return Object.fromEntries(d.excluded.map((e) => [e.process.pid, e.reason]));
}
