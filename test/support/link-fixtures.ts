/**
 * Sample agent messages for link tests and the link benchmark: a snapshot
 * of `gpus` GPUs with `processesPerGpu` processes each, and one message of
 * every payload kind with nulls where the model allows them.
 */
import type { AgentMessage, AgentPayload } from '../../shared/src/messages.ts';
import { LATENCY_BOUNDS_MS } from '../../shared/src/messages.ts';
import type { GpuProcess, Snapshot } from '../../shared/src/snapshot.ts';

const TAKEN_AT = '2026-02-28T14:00:00.000Z';

/**
 * A realistic snapshot: H100-like GPUs, Python workers with everything the
 * agent's sampler reports about a process it resolved in /proc.
 */
export function sampleSnapshot(
  node: string,
  gpus = 8,
  processesPerGpu = 16,
): Snapshot {
  return {
    node,
    takenAt: TAKEN_AT,
    source: 'nvml',
    driverVersion: '550.54.15',
    gpus: Array.from({ length: gpus }, (_, index) => ({
      index,
      uuid: `GPU-5d1e8c3a-7b2f-4e61-9a0c-3f8e2b1d40${String(index).padStart(2, '0')}`,
      name: 'NVIDIA H100 80GB HBM3',
      pciBusId: `00000000:${(0x18 + index).toString(16).toUpperCase()}:00.0`,
      memory: {
        totalBytes: 85_520_809_984,
        usedBytes: 41_943_040_000 + index,
        freeBytes: 43_577_769_984 - index,
        reservedBytes: 549_453_824,
      },
      utilizationPercent: { gpu: 87, memory: 41 },
      temperatureC: 64,
      powerWatts: 512.25,
      migEnabled: false,
      processes: Array.from({ length: processesPerGpu }, (_, i) =>
        sampleProcess(index * 100 + i),
      ),
    })),
    problems: [],
  };
}

function sampleProcess(n: number): GpuProcess {
  return {
    pid: 41000 + n,
    name: 'python3',
    type: 'compute',
    usedBytes: 2_147_483_648 + n * 4096,
    user: 'svc-infer',
    command: `python3 serve.py --shard ${n % 16}`,
    startedAt: '2026-02-28T09:12:45.000Z',
    uid: 1001,
    ppid: 40990,
    unit: 'infer.service',
    cgroup: '/system.slice/infer.service',
    state: 'S',
    startTimeTicks: 183_467_200 + n,
    exe: '/usr/bin/python3.11',
    oomScoreAdj: 0,
    resolved: true,
  };
}

/** One payload of each kind, with nulls and optional extras. */
export function samplePayloads(node: string): AgentPayload[] {
  const snapshot = sampleSnapshot(node, 2, 2);
  snapshot.gpus[1]!.memory.usedBytes = null;
  snapshot.gpus[1]!.temperatureC = null;
  snapshot.gpus[1]!.utilizationPercent.gpu = null;
  snapshot.gpus[1]!.migEnabled = null;
  snapshot.gpus[1]!.processes[0] = {
    ...snapshot.gpus[1]!.processes[0]!,
    usedBytes: null,
    user: null,
    startedAt: null,
    uid: 1000,
    ppid: 1,
    unit: 'ollama.service',
    oomScoreAdj: -900,
    startTimeTicks: 123456789,
    resolved: true,
    protected: true,
  };
  snapshot.problems.push({
    gpuUuid: 'GPU-x',
    kind: 'field_unsupported',
    message: 'power.draw is [N/A]',
  });
  snapshot.problems.push({
    kind: 'driver_slow',
    message: 'nvidia-smi took 3s',
  });
  return [
    { type: 'hello', hello: sampleHello(node) },
    { type: 'snapshot', snapshot },
    {
      type: 'sli',
      sli: {
        source: 'probe',
        workload: 'ollama',
        model: null,
        intervalStartMs: 1772287200000,
        intervalEndMs: 1772287260000,
        total: 12,
        failed: 2,
        latencyCounts: LATENCY_BOUNDS_MS.map((_, i) =>
          i === 3 ? 10 : 0,
        ).concat([0]),
      },
    },
    {
      type: 'guard',
      guard: {
        atMs: 1772287201000,
        kind: 'kill',
        gpuUuid: 'GPU-x',
        state: 'hard_breach',
        mode: 'enforce',
        message: 'killed code-tunnel',
        reservedBytes: 21_474_836_480,
        protectedBytes: null,
        freeBytes: 0,
        deficitBytes: 3_221_225_472,
        process: {
          pid: 41872,
          name: 'code-tunnel',
          user: null,
          unit: null,
          command: 'code-tunnel',
          usedBytes: 3_221_225_472,
        },
        freedBytes: null,
        signal: 'SIGKILL',
        policyHash: 'abc123',
        details: { candidates: [41872], harm: { latency: true } },
      },
    },
    {
      type: 'health',
      health: {
        atMs: 1772287202000,
        component: 'ollama',
        status: 'degraded',
        kind: 'model_partly_on_cpu',
        message: 'qwen2.5:32b is partly in system RAM',
        ollama: {
          reachable: true,
          version: '0.6.2',
          model: 'qwen2.5:32b',
          resident: true,
          sizeBytes: 21_000_000_000,
          sizeVramBytes: 18_000_000_000,
          offloadedBytes: 3_000_000_000,
          expiresAtMs: null,
          lastLatencyMs: 2140.5,
        },
        details: {},
      },
    },
  ];
}

function sampleHello(node: string) {
  return {
    node,
    agentVersion: '0.1.0',
    bootId: null,
    startedAtMs: 1772287100000,
    host: {
      os: 'Debian GNU/Linux 12',
      kernel: '6.1.0-18-amd64',
      cpu: null,
      memoryBytes: 134_217_728_000,
    },
    gpus: [
      {
        index: 0,
        uuid: 'GPU-x',
        name: 'NVIDIA GeForce RTX 4090',
        totalBytes: null,
      },
    ],
    policy: {
      mode: 'warn' as const,
      policyHash: 'abc123',
      reservations: [
        { gpu: 'GPU-x', reservedBytes: 21_474_836_480, workload: 'ollama' },
      ],
    },
  };
}

/** Wraps a payload as message `seq` of `node`. */
export function sampleMessage(
  node: string,
  seq: number,
  payload: AgentPayload,
): AgentMessage {
  return { node, seq, sentAtMs: 1772287200000 + seq, payload };
}
