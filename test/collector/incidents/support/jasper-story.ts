/**
 * The Jasper incident (reference INC-20260228-a3f7) as agent messages and
 * SLO verdicts, built by hand: a VS Code Remote Tunnel takes 3 GiB of a
 * 24 GiB RTX 4090 at 14:30, Ollama's 20 GiB model spills to the CPU,
 * `slo_high_burn` fires at 14:32, the guard kills the tunnel at 14:42 and
 * the rule is clear from 14:45. Builders for other stories are exported.
 */
import type {
  AlertState,
  FiringRule,
} from '../../../../collector/src/slo/alert-state.ts';
import {
  latencyBucket,
  LATENCY_BOUNDS_MS,
} from '../../../../shared/src/messages.ts';
import type {
  AgentMessage,
  AgentPayload,
  GuardEvent,
  OllamaStatus,
  ProcessRef,
} from '../../../../shared/src/messages.ts';
import type { GpuProcess } from '../../../../shared/src/snapshot.ts';

export const GIB = 2 ** 30;
export const GPU_UUID = 'GPU-4a3f7c1e-8b2d-4e6f-9a1c-3d5e7f9b2c4a';
export const ms = (iso: string): number => Date.parse(iso);
const MINUTE_MS = 60_000;

function message(atMs: number, payload: AgentPayload): AgentMessage {
  // The stream's sequence number does not matter to incidents; time does.
  return { node: 'jasper', seq: atMs, sentAtMs: atMs, payload };
}

export function hello(
  atMs: number,
  mode: 'observe' | 'warn' | 'enforce-term' | 'enforce',
  reservedBytes: number | null,
): AgentMessage {
  return message(atMs, {
    type: 'hello',
    hello: {
      node: 'jasper',
      agentVersion: '0.1.0',
      bootId: null,
      startedAtMs: atMs,
      host: { os: 'Linux', kernel: null, cpu: null, memoryBytes: 64 * GIB },
      gpus: [
        {
          index: 0,
          uuid: GPU_UUID,
          name: 'NVIDIA GeForce RTX 4090',
          totalBytes: 24 * GIB,
        },
      ],
      policy: {
        mode,
        policyHash: 'p1',
        reservations:
          reservedBytes === null
            ? []
            : [{ gpu: GPU_UUID, reservedBytes, workload: 'ollama' }],
      },
    },
  });
}

export function gpuProcess(
  pid: number,
  name: string,
  usedBytes: number,
  command: string,
): GpuProcess {
  return {
    pid,
    name,
    type: 'compute',
    usedBytes,
    user: 'dev',
    command,
    startedAt: null,
    unit: null,
  };
}

export const OLLAMA_RUNNER = (): GpuProcess =>
  gpuProcess(
    3121,
    'ollama',
    20 * GIB,
    '/usr/bin/ollama runner --model qwen2.5:32b',
  );
export const CODE_TUNNEL = (): GpuProcess =>
  gpuProcess(
    41872,
    'code-tunnel',
    3 * GIB,
    '/home/dev/.vscode/cli/code-tunnel tunnel',
  );

export function snapshot(
  atMs: number,
  processes: GpuProcess[],
  utilPercent: number,
): AgentMessage {
  const usedBytes = processes.reduce((sum, p) => sum + (p.usedBytes ?? 0), 0);
  return message(atMs, {
    type: 'snapshot',
    snapshot: {
      node: 'jasper',
      takenAt: new Date(atMs).toISOString(),
      source: 'nvml',
      driverVersion: '550.54.14',
      problems: [],
      gpus: [
        {
          index: 0,
          uuid: GPU_UUID,
          name: 'NVIDIA GeForce RTX 4090',
          pciBusId: null,
          memory: {
            totalBytes: 24 * GIB,
            usedBytes,
            freeBytes: 24 * GIB - usedBytes,
            reservedBytes: 0,
          },
          utilizationPercent: { gpu: utilPercent, memory: 50 },
          temperatureC: 60,
          powerWatts: 300,
          migEnabled: null,
          processes,
        },
      ],
    },
  });
}

const tunnelRef = (): ProcessRef => ({
  pid: 41872,
  name: 'code-tunnel',
  user: 'dev',
  unit: null,
  command: '/home/dev/.vscode/cli/code-tunnel tunnel',
  usedBytes: 3 * GIB,
});

export function guard(
  atMs: number,
  kind: GuardEvent['kind'],
  text: string,
  extra: Partial<GuardEvent> = {},
): AgentMessage {
  return message(atMs, {
    type: 'guard',
    guard: {
      atMs,
      kind,
      gpuUuid: GPU_UUID,
      state: 'hard_breach',
      mode: 'enforce',
      message: text,
      reservedBytes: 20 * GIB,
      protectedBytes: 18.5 * GIB,
      freeBytes: 1 * GIB,
      deficitBytes: 2 * GIB,
      process: tunnelRef(),
      freedBytes: null,
      signal: null,
      policyHash: 'p1',
      details: {},
      ...extra,
    },
  });
}

export function ollamaHealth(
  atMs: number,
  status: 'ok' | 'degraded',
  kind: string,
  offloadedBytes: number,
  latencyMs: number,
): AgentMessage {
  const ollama: OllamaStatus = {
    reachable: true,
    version: '0.6.0',
    model: 'qwen2.5:32b',
    resident: true,
    sizeBytes: 20 * GIB,
    sizeVramBytes: 20 * GIB - offloadedBytes,
    offloadedBytes,
    expiresAtMs: null,
    lastLatencyMs: latencyMs,
  };
  return message(atMs, {
    type: 'health',
    health: {
      atMs,
      component: 'ollama',
      status,
      kind,
      message: `ollama ${kind}`,
      ollama,
      details: {},
    },
  });
}

/** One minute of requests: `total` requests, `slow` above 2 s, `failed` failed. */
export function sliMinute(
  startMs: number,
  total: number,
  slow: number,
  failed: number,
): AgentMessage {
  const latencyCounts = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  latencyCounts[latencyBucket(450)]! += total - slow - failed;
  latencyCounts[latencyBucket(2600)]! += slow;
  return message(startMs + MINUTE_MS, {
    type: 'sli',
    sli: {
      source: 'requests',
      workload: 'ollama',
      model: 'qwen2.5:32b',
      intervalStartMs: startMs,
      intervalEndMs: startMs + MINUTE_MS,
      total,
      failed,
      latencyCounts,
    },
  });
}

export const HIGH_BURN = (burnRate: number): FiringRule => ({
  rule: 'slo_high_burn',
  severity: 'SEV2',
  burnRate,
  window: 'rolling_1h',
  shortBurnRate: burnRate * 3,
  shortWindow: 'rolling_5m',
  threshold: 3,
});

export const CRITICAL_BURN = (burnRate: number): FiringRule => ({
  rule: 'slo_critical_burn',
  severity: 'SEV1',
  burnRate,
  window: 'rolling_1h',
  shortBurnRate: burnRate * 2,
  shortWindow: 'rolling_5m',
  threshold: 14.4,
});

export function verdict(
  atMs: number,
  firing: FiringRule | null,
  dataState: AlertState['dataState'] = 'ok',
  scope = 'jasper',
): AlertState {
  return {
    sloName: 'ollama_availability',
    scope,
    evaluatedAtMs: atMs,
    slo: { name: 'ollama_availability', targetPercent: 99.5 },
    dataState,
    burnRates: {
      rolling_1h: firing?.burnRate ?? 0.2,
      rolling_5m: firing?.shortBurnRate ?? 0,
    },
    firing,
    budgetRemainingRatio: 0.98,
  };
}

/** One step of a story: evidence first, then the verdicts at that time. */
export interface StoryStep {
  atMs: number;
  messages: AgentMessage[];
  states: AlertState[];
}

/**
 * The Jasper story, minute by minute from 14:00 to 15:05. With
 * `reservation: false` the host has no reservation policy, the guard only
 * observes, and a person ends it instead of the guard (no kill events).
 */
export function jasperStory(
  options: { reservation: boolean } = { reservation: true },
): StoryStep[] {
  const steps: StoryStep[] = [];
  const startMs = ms('2026-02-28T14:00:00Z');
  for (let minute = 0; minute <= 65; minute += 1) {
    const atMs = startMs + minute * MINUTE_MS;
    steps.push({
      atMs,
      messages: minuteEvidence(atMs, minute, options.reservation),
      states: [minuteVerdict(atMs, minute)],
    });
  }
  steps[0]!.messages.unshift(
    hello(
      startMs,
      options.reservation ? 'enforce' : 'observe',
      options.reservation ? 20 * GIB : null,
    ),
  );
  return steps;
}

function minuteVerdict(atMs: number, minute: number): AlertState {
  if (minute < 32 || minute >= 45) return verdict(atMs, null);
  const burns = [
    3.2, 3.6, 4.1, 4.4, 4.6, 4.8, 4.9, 5.0, 5.0, 5.1, 5.1, 4.8, 4.2,
  ];
  return verdict(atMs, HIGH_BURN(burns[minute - 32] ?? 4));
}

function minuteEvidence(
  atMs: number,
  minute: number,
  reservation: boolean,
): AgentMessage[] {
  const tunnelUp = minute >= 30 && minute < 43;
  const processes = tunnelUp
    ? [OLLAMA_RUNNER(), CODE_TUNNEL()]
    : [OLLAMA_RUNNER()];
  const slow = minute >= 31 && minute < 45 ? 50 : 0;
  const out = [
    sliMinute(atMs - MINUTE_MS, 60, slow, 0),
    snapshot(atMs + 10_000, processes, tunnelUp ? 98 : 35),
  ];
  if (minute === 30) {
    out.push(
      guard(
        atMs + 5_000,
        'breach',
        'code-tunnel took 3.0 GiB of the 20 GiB reservation',
      ),
    );
    out.push(
      ollamaHealth(
        atMs + 30_000,
        'degraded',
        'model_partly_on_cpu',
        1.5 * GIB,
        2400,
      ),
    );
  }
  if (minute === 42 && reservation) {
    out.push(
      guard(atMs + 30_000, 'signal', 'sent SIGTERM to code-tunnel', {
        signal: 'SIGTERM',
      }),
    );
    out.push(
      guard(atMs + 32_000, 'kill', 'code-tunnel exited after SIGTERM', {
        signal: 'SIGTERM',
      }),
    );
    out.push(
      guard(atMs + 35_000, 'freed', 'freed 3.0 GiB', {
        freedBytes: 3 * GIB,
        freeBytes: 4 * GIB,
      }),
    );
  }
  if (minute === 43) {
    out.push(ollamaHealth(atMs + 30_000, 'ok', 'model_resident', 0, 450));
  }
  return out;
}
