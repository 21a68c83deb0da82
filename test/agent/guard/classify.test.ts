import { expect } from 'chai';
import type { GpuProcess } from '../../../shared/src/snapshot.ts';
import {
  neverKillReason,
  policyReason,
} from '../../../agent/src/guard/classify.ts';
import type { ClassifyContext } from '../../../agent/src/guard/classify.ts';
import { caseConfig } from './fake-host.ts';

const config = caseConfig();

function proc(fields: Partial<GpuProcess>): GpuProcess {
  return {
    pid: 5000,
    name: 'python3',
    type: 'compute',
    usedBytes: 2 ** 30,
    user: 'dev',
    command: 'python3 x.py',
    startedAt: null,
    uid: 1000,
    ppid: 1,
    unit: null,
    cgroup: null,
    container: null,
    state: 'S',
    startTimeTicks: 100,
    exe: '/usr/bin/python3',
    oomScoreAdj: 0,
    resolved: true,
    ...fields,
  };
}

function ctx(extra: Partial<ClassifyContext> = {}): ClassifyContext {
  return {
    config,
    self: { pid: 700, ppid: 699 },
    protectedPids: new Set(),
    ancestry: new Map(),
    ...extra,
  };
}

describe('neverKillReason()', () => {
  const cases: [
    string,
    Partial<GpuProcess>,
    Partial<ClassifyContext>,
    string | null,
  ][] = [
    ['pid 1', { pid: 1 }, {}, 'invalid_pid'],
    ['gpuwarden itself', { pid: 700 }, {}, 'self'],
    ['its parent', { pid: 699 }, {}, 'self_parent'],
    ['a kernel thread', { ppid: 2 }, {}, 'kernel_thread'],
    ['ollama.service', { unit: 'ollama.service' }, {}, 'protected_workload'],
    [
      'an exe under the Ollama prefix',
      { exe: '/usr/lib/ollama/runners/cuda_v12/ollama_llama_server' },
      {},
      'protected_workload',
    ],
    [
      'a child of ollama serve',
      { ppid: 1201 },
      { protectedPids: new Set([1201]) },
      'protected_workload',
    ],
    [
      'a grandchild of ollama serve',
      {},
      {
        ancestry: new Map([
          [
            5000,
            [
              {
                pid: 42,
                name: 'bash',
                exe: '/usr/bin/bash',
                unit: null,
                cgroup: null,
              },
              {
                pid: 41,
                name: 'ollama',
                exe: '/usr/local/bin/ollama',
                unit: null,
                cgroup: null,
              },
            ],
          ],
        ]),
      },
      'protected_workload',
    ],
    [
      'Xorg from /usr',
      { name: 'Xorg', exe: '/usr/lib/xorg/Xorg' },
      {},
      'display_server',
    ],
    [
      'a program named Xorg in a home directory',
      { name: 'Xorg', exe: '/home/dev/Xorg' },
      {},
      null,
    ],
    [
      'nvidia-persistenced',
      { name: 'nvidia-persistenced', exe: '/usr/bin/nvidia-persistenced' },
      {},
      'nvidia_service',
    ],
    [
      'dcgm in system.slice',
      { unit: 'dcgm.service', cgroup: '/system.slice/dcgm.service' },
      {},
      'nvidia_service',
    ],
    ['oom_score_adj -900', { oomScoreAdj: -900 }, {}, 'oom_protected'],
    ['oom_score_adj -899', { oomScoreAdj: -899 }, {}, null],
    [
      'an unresolved process named ollama',
      { name: 'ollama', exe: null },
      {},
      'protected_workload',
    ],
    [
      'a resolved program named ollama elsewhere',
      { name: 'ollama', exe: '/home/dev/bin/ollama' },
      {},
      null,
    ],
  ];
  for (const [what, fields, extra, reason] of cases) {
    it(`gives ${reason ?? 'no reason'} for ${what}`, () => {
      expect(neverKillReason(proc(fields), ctx(extra))).to.equal(reason);
    });
  }
});

describe('policyReason()', () => {
  const cases: [string, Partial<GpuProcess>, string | null][] = [
    ['an eligible compute process', {}, null],
    ['a zombie', { state: 'Z' }, 'exited'],
    ['unknown memory', { usedBytes: null }, 'memory_unknown'],
    ['no start time', { startTimeTicks: null }, 'identity_unreadable'],
    ['another PID namespace', { resolved: false }, 'identity_unreadable'],
    ['a graphics context', { type: 'graphics' }, 'graphics_only'],
    ['an owner not listed', { user: 'carol', uid: 1003 }, 'not_eligible'],
    ['root', { user: 'root', uid: 0 }, 'not_eligible'],
    ['a container', { container: 'docker-1a2b' }, 'container'],
    ['a small process', { usedBytes: 100 * 2 ** 20 }, 'too_small'],
  ];
  for (const [what, fields, reason] of cases) {
    it(`gives ${reason ?? 'no reason'} for ${what}`, () => {
      expect(policyReason(proc(fields), config.eligible)).to.equal(reason);
    });
  }

  it('makes a listed unit eligible whoever owns it', () => {
    const eligible = { ...config.eligible, units: ['code-*.service'] };
    expect(
      policyReason(
        proc({ user: 'carol', uid: 1003, unit: 'code-tunnel.service' }),
        eligible,
      ),
    ).to.equal(null);
  });
});
