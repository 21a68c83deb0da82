import { expect } from 'chai';
import type { GpuProcess } from '../../../shared/src/snapshot.ts';
import {
  DEFAULT_OLLAMA_PREFIXES,
  identifyOllamaProcesses,
} from '../../../agent/src/ollama/processes.ts';
import type { AncestorInfo } from '../../../agent/src/ollama/processes.ts';

function proc(pid: number, over: Partial<GpuProcess>): GpuProcess {
  return {
    pid,
    name: null,
    type: 'compute',
    usedBytes: 1,
    user: null,
    command: null,
    startedAt: null,
    ...over,
  };
}

const server: AncestorInfo = {
  pid: 1391,
  exe: '/usr/local/bin/ollama',
  command: '/usr/local/bin/ollama serve',
  unit: 'ollama.service',
};
const containerServer: AncestorInfo = {
  pid: 900,
  exe: '/usr/bin/ollama',
  command: '/bin/ollama serve',
  cgroup: '/system.slice/docker-ab12.scope',
};
const parents: Record<number, AncestorInfo[]> = {
  48211: [
    server,
    { pid: 1, exe: '/usr/lib/systemd/systemd', command: '/sbin/init' },
  ],
  5001: [containerServer],
  77310: [{ pid: 3000, exe: '/usr/bin/bash', command: 'bash' }],
};
const ancestry = (pid: number) => parents[pid] ?? null;
const options = { unit: 'ollama', installPrefixes: DEFAULT_OLLAMA_PREFIXES };

describe('identifyOllamaProcesses()', () => {
  it('recognises runners of every era by unit, ancestry and executable', () => {
    const processes = [
      // 0.5.8 – 0.24: the main binary re-executed as a runner, in the unit.
      proc(48211, {
        name: 'ollama',
        command: '/usr/local/bin/ollama runner --model /m',
        exe: '/usr/local/bin/ollama',
        unit: 'ollama.service',
        cgroup: '/system.slice/ollama.service',
      }),
      // ≥ 0.30: llama-server from lib/ollama, in a container (no unit).
      proc(5001, {
        name: 'llama-server',
        command: '/usr/lib/ollama/llama-server --model /m',
        exe: '/usr/lib/ollama/llama-server',
      }),
      // 0.1.32 – 0.5.1: truncated comm, extracted to /tmp, child of the server.
      proc(5002, {
        name: 'ollama_llama_se',
        cgroup: '/system.slice/ollama.service',
        exe: '/tmp/ollama123/runners/cuda_v12/ollama_llama_server',
      }),
    ];

    const { ollama, nameOnly } = identifyOllamaProcesses(
      processes,
      options,
      ancestry,
    );

    expect(ollama).to.deep.equal([
      { pid: 48211, role: 'runner', evidence: ['unit', 'ancestry', 'exe'] },
      { pid: 5001, role: 'runner', evidence: ['ancestry', 'exe'] },
      { pid: 5002, role: 'runner', evidence: ['cgroup'] },
    ]);
    expect(nameOnly).to.deep.equal([]);
  });

  it('recognises the server itself and calls it server', () => {
    const { ollama } = identifyOllamaProcesses(
      [
        proc(1391, {
          name: 'ollama',
          command: '/usr/local/bin/ollama serve',
          exe: '/usr/local/bin/ollama',
          unit: 'ollama.service',
        }),
      ],
      options,
      () => [],
    );

    expect(ollama).to.deep.equal([
      { pid: 1391, role: 'server', evidence: ['unit', 'exe'] },
    ]);
  });

  it('never takes a process for Ollama by its name alone', () => {
    const impostors = [
      proc(77310, {
        name: 'ollama',
        command: '/home/dev/ollama',
        exe: '/home/dev/ollama',
      }),
      proc(77311, {
        name: 'llama-server',
        command: '/opt/llama.cpp/llama-server -m x',
        exe: '/home/dev/llama.cpp/build/bin/llama-server',
      }),
      proc(77312, {
        name: 'code-tunnel',
        command: '/usr/bin/code-tunnel',
        exe: '/usr/bin/code-tunnel',
      }),
    ];

    const { ollama, nameOnly } = identifyOllamaProcesses(
      impostors,
      options,
      ancestry,
    );

    expect(ollama).to.deep.equal([]);
    expect(nameOnly).to.deep.equal([77310, 77311]);
  });

  it('does not trust an ollama serve parent that has no anchor', () => {
    const rogue: AncestorInfo = {
      pid: 4000,
      exe: '/home/dev/bin/ollama',
      command: '/home/dev/bin/ollama serve',
    };

    const { ollama } = identifyOllamaProcesses(
      [proc(4001, { name: 'ollama' })],
      options,
      () => [rogue],
    );

    expect(ollama).to.deep.equal([]);
  });

  it('takes pids the operator declared', () => {
    const { ollama } = identifyOllamaProcesses(
      [proc(7, { name: 'node' })],
      { ...options, pids: [7] },
      () => null,
    );

    expect(ollama).to.deep.equal([
      { pid: 7, role: 'unknown', evidence: ['configured'] },
    ]);
  });
});
