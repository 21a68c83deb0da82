/**
 * Properties of the plan over thousands of random process tables and
 * policies: a protected, ineligible or unidentifiable process is never
 * chosen; never more victims than the fewest that reach the goal; an
 * infeasible plan chooses nobody.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { ConfigNode } from '../../../shared/src/config.ts';
import type { GpuProcess, Snapshot } from '../../../shared/src/snapshot.ts';
import { Guard } from '../../../agent/src/guard/guard.ts';
import { parseGuardConfig } from '../../../agent/src/guard/guard-config.ts';
import type { GuardConfig } from '../../../agent/src/guard/guard-config.ts';
import { H1, MIB } from './fake-host.ts';

const SELF = { pid: 40, ppid: 41 };
const NOW_MS = Date.parse('2026-03-02T13:47:00Z');

const processArb = fc.record({
  pid: fc.integer({ min: 0, max: 60 }),
  user: fc.constantFrom('dev', 'dev', 'alice', 'root', 'ollama', 'carol'),
  type: fc.constantFrom(
    'compute',
    'graphics',
    'compute+graphics',
  ) as fc.Arbitrary<GpuProcess['type']>,
  mib: fc.option(fc.integer({ min: 0, max: 8000 }), { nil: null, freq: 8 }),
  unit: fc.constantFrom(
    null,
    'ollama.service',
    'code-tunnel.service',
    'frigate.service',
    'nvidia-persistenced.service',
  ),
  exe: fc.constantFrom(
    null,
    '/usr/bin/python3',
    '/usr/bin/python3',
    '/usr/local/bin/ollama',
    '/usr/local/lib/ollama/llama-server',
    '/usr/bin/python3',
    '/usr/lib/xorg/Xorg',
    '/home/dev/Xorg',
    '/usr/bin/nvidia-persistenced',
  ),
  name: fc.constantFrom(
    'python3',
    'ollama',
    'Xorg',
    'gnome-shell',
    'llama-server',
    'job',
  ),
  oomScoreAdj: fc.constantFrom(null, -1000, -900, -899, 0, 0, 0, 500),
  startTicks: fc.option(fc.integer({ min: 1, max: 1e7 }), {
    nil: null,
    freq: 8,
  }),
  resolved: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
  container: fc.option(fc.constant('docker-1a2b'), { nil: null, freq: 4 }),
  ppid: fc.constantFrom(1, 1, 1, 2, 30),
  state: fc.constantFrom('S', 'S', 'S', 'R', 'D', 'Z'),
});

/** Rows that are usually candidates, so plans are often non-empty. */
const likelyCandidateArb = processArb.chain((row) =>
  fc.record({
    pid: fc.constant(row.pid),
    user: fc.constantFrom('dev', 'alice', 'carol'),
    type: fc.constant('compute' as GpuProcess['type']),
    mib: fc.integer({ min: 100, max: 6000 }),
    unit: fc.constantFrom(null, 'code-tunnel.service', 'frigate.service'),
    exe: fc.constant('/usr/bin/python3'),
    name: fc.constant('python3'),
    oomScoreAdj: fc.constantFrom(0, 0, 0, -1000),
    startTicks: fc.integer({ min: 1, max: 1e7 }),
    resolved: fc.constant(true),
    container: fc.constant(null),
    ppid: fc.constant(1),
    state: fc.constant('S'),
  }),
);

const policyArb = fc.record({
  users: fc.subarray(['root', 'dev', 'alice', 'carol', '1000'], {
    minLength: 2,
  }),
  units: fc.subarray([
    'code-tunnel.service',
    'frigate.service',
    'ollama.service',
    'nvidia-*',
  ]),
  minVictimMib: fc.integer({ min: 0, max: 1024 }),
  graphics: fc.boolean(),
  containers: fc.constantFrom('warn', 'kill'),
  reserveMib: fc.integer({ min: 1000, max: 24000 }),
});

type Row = typeof processArb extends fc.Arbitrary<infer R> ? R : never;

describe('Guard plan properties', () => {
  it('never chooses a protected, ineligible or unidentifiable process, never more than the fewest, nobody when infeasible', () => {
    let withVictims = 0;
    let infeasible = 0;
    let withCulprits = 0;
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.oneof(
            { arbitrary: processArb, weight: 1 },
            { arbitrary: likelyCandidateArb, weight: 1 },
          ),
          { selector: (p) => p.pid, maxLength: 10 },
        ),
        policyArb,
        fc.integer({ min: -2000, max: 8000 }),
        fc.nat(10),
        (rows, policy, shortMib, oldCount) => {
          const freeMib = Math.max(0, policy.reserveMib + 512 - shortMib);
          const config = configOf(policy);
          const processes = rows.map(toProcess);
          const guard = new Guard(config, { self: SELF });
          // A compliant sample with only the first rows: the rest are
          // newcomers (culprits) when the breach comes.
          const healthy = snapshotOf(
            processes.slice(0, oldCount),
            policy.reserveMib + 24_000,
            NOW_MS - 2000,
          );
          guard.evaluate({ snapshot: healthy, harm: H1, nowMs: NOW_MS - 2000 });

          const [d] = guard.evaluate({
            snapshot: snapshotOf(processes, freeMib),
            harm: H1,
            nowMs: NOW_MS,
          });

          if (!d?.math) throw new Error('no math');
          const victims = d.plan.victims;
          for (const v of victims) {
            expect(
              isForbidden(v.process, config),
              `pid ${v.process.pid}`,
            ).to.equal(false);
          }
          if (victims.length > 0) withVictims += 1;
          if (victims.some((v) => v.culprit)) withCulprits += 1;
          if (!d.plan.feasible) infeasible += 1;
          if (!d.plan.feasible) expect(victims).to.deep.equal([]);
          if (d.math.deficitBytes <= 0) expect(victims).to.deep.equal([]);
          if (victims.length > 0) {
            const sizes = victims.map((v) => v.usedBytes);
            const total = sizes.reduce((a, b) => a + b, 0);
            expect(total).to.be.at.least(d.plan.goalBytes);
            expect(total).to.be.at.least(d.math.deficitBytes);
            expect(total - Math.min(...sizes)).to.be.lessThan(d.plan.goalBytes);
            expect(victims.length).to.equal(
              fewest(
                d.candidates.map((c) => c.usedBytes),
                d.plan.goalBytes,
              ),
            );
          }
        },
      ),
      { numRuns: 2000 },
    );

    expect(withVictims).to.be.greaterThan(100);
    expect(infeasible).to.be.greaterThan(100);
    expect(withCulprits).to.be.greaterThan(50);
  });
});

/** An oracle written apart from the guard: what may never be chosen. */
function isForbidden(p: GpuProcess, config: GuardConfig): boolean {
  const protectedMark =
    p.unit === 'ollama.service' || (p.exe ?? '').startsWith('/usr/local/');
  const critical =
    p.exe === '/usr/lib/xorg/Xorg' ||
    p.exe === '/usr/bin/nvidia-persistenced' ||
    (p.exe === null && (p.name === 'Xorg' || p.name === 'gnome-shell'));
  const eligible =
    config.eligible.users.includes(p.user ?? '') ||
    config.eligible.users.includes(String(p.uid)) ||
    (p.unit !== null &&
      p.unit !== undefined &&
      config.eligible.units.some(
        (u) =>
          u === p.unit ||
          (u.endsWith('*') && (p.unit ?? '').startsWith(u.slice(0, -1))),
      ));
  return (
    p.pid <= 1 ||
    p.pid === SELF.pid ||
    p.pid === SELF.ppid ||
    p.ppid === 2 ||
    p.pid === 2 ||
    protectedMark ||
    critical ||
    (p.oomScoreAdj ?? 0) <= -900 ||
    p.usedBytes === null ||
    p.startTimeTicks === null ||
    p.resolved === false ||
    p.state === 'Z' ||
    !eligible ||
    (p.type === 'graphics' && !config.eligible.graphics) ||
    (p.container !== null && config.eligible.containers === 'warn') ||
    (p.usedBytes ?? 0) < config.eligible.minVictimBytes
  );
}

function fewest(sizes: number[], goal: number): number {
  const sorted = [...sizes].sort((a, b) => b - a);
  let sum = 0;
  for (let i = 0; i < sorted.length; i += 1) {
    sum += sorted[i] ?? 0;
    if (sum >= goal) return i + 1;
  }
  return Infinity;
}

function configOf(policy: {
  users: string[];
  units: string[];
  minVictimMib: number;
  graphics: boolean;
  containers: string;
  reserveMib: number;
}): GuardConfig {
  return parseGuardConfig(
    new ConfigNode(
      {
        mode: 'enforce',
        reservations: [{ gpu: 0, reserve: `${policy.reserveMib}MiB` }],
        eligible: {
          users: policy.users,
          units: policy.units,
          minVictim: `${policy.minVictimMib}MiB`,
          graphics: policy.graphics,
          containers: policy.containers,
        },
      },
      'guard',
    ),
  );
}

const UIDS: Record<string, number> = {
  root: 0,
  dev: 1000,
  alice: 1001,
  ollama: 997,
  carol: 1003,
};

function toProcess(row: Row): GpuProcess {
  return {
    pid: row.pid,
    name: row.name,
    type: row.type,
    usedBytes: row.mib === null ? null : row.mib * MIB,
    user: row.user,
    command: `${row.name} --run`,
    startedAt: null,
    uid: UIDS[row.user] ?? null,
    ppid: row.ppid,
    unit: row.unit,
    cgroup: row.unit ? `/system.slice/${row.unit}` : null,
    container: row.container,
    state: row.state,
    startTimeTicks: row.startTicks,
    exe: row.exe,
    oomScoreAdj: row.oomScoreAdj,
    resolved: row.resolved,
  };
}

function snapshotOf(
  processes: GpuProcess[],
  freeMib: number,
  takenAtMs = NOW_MS,
): Snapshot {
  return {
    node: 'prop',
    takenAt: new Date(takenAtMs).toISOString(),
    source: 'nvml',
    driverVersion: null,
    gpus: [
      {
        index: 0,
        uuid: 'GPU-prop',
        name: null,
        pciBusId: null,
        memory: {
          totalBytes: 24564 * MIB,
          usedBytes: (24564 - freeMib) * MIB,
          freeBytes: freeMib * MIB,
          reservedBytes: null,
        },
        utilizationPercent: { gpu: null, memory: null },
        temperatureC: null,
        powerWatts: null,
        migEnabled: null,
        processes,
      },
    ],
    problems: [],
  };
}
