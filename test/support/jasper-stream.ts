/**
 * The Jasper incident (shared/reference/INC-20260228-a3f7.md) as a recorded
 * agent stream: node `jasper`, an RTX 4090 with 24 GiB, Ollama serving
 * qwen2.5:32b (~20 GiB). Healthy (< 500 ms) from 08:00 UTC; at 14:30 a VS
 * Code Remote Tunnel (`code-tunnel`, pid 41872, user dev) takes 3 GiB and
 * about half the requests take over 2 s; at 14:32:04 Ollama reports the
 * model partly on CPU; the guard (enforce mode) plans, sends SIGTERM, then
 * SIGKILL, and sees 3 GiB freed at 14:32:21; latency is back under 500 ms
 * from 14:33:20. The stream ends at 15:00.
 *
 * With DESIGN §3.4's rules this opens SEV2 `slo_high_burn` at 14:32:00
 * (3.2× over rolling_1h) and the rule stops firing at 14:37:10; see
 * test/fixtures/jasper/README.md. `jasper-write-fixture.ts` writes it.
 */
import type {
  AgentMessage,
  AgentPayload,
  GuardEvent,
  HealthEvent,
  Hello,
  OllamaStatus,
  ProcessRef,
} from '../../shared/src/messages.ts';
import { LATENCY_BOUNDS_MS, latencyBucket } from '../../shared/src/messages.ts';
import type { GpuProcess, Snapshot } from '../../shared/src/snapshot.ts';

const MIB = 2 ** 20;
const at = (hms: string): number => Date.parse(`2026-02-28T${hms}Z`);

/** Times and facts of the story, for tests to assert against. */
export const JASPER = {
  node: 'jasper',
  gpuUuid: 'GPU-4a3f7c1e-8b2d-4e6f-9a1c-3d5e7f9b2c4a',
  gpuName: 'NVIDIA GeForce RTX 4090',
  totalBytes: 24_576 * MIB,
  ollamaPid: 2231,
  ollamaBytes: 20_582 * MIB,
  reservedBytes: 22_528 * MIB,
  tunnelPid: 41_872,
  tunnelBytes: 3072 * MIB,
  tunnelCommand:
    '/home/dev/.vscode/cli/code-tunnel tunnel --accept-server-license-terms --name jasper',
  model: 'qwen2.5:32b',
  startMs: at('08:00:00'),
  onsetMs: at('14:30:00'),
  killedMs: at('14:32:19.600'),
  recoveredMs: at('14:33:20'),
  endMs: at('15:00:00'),
  /** When the rules first match (SEV2 slo_high_burn, 3.2× rolling_1h). */
  expectedOpenMs: at('14:32:00'),
  /** First evaluation at which no rule matches any more. */
  expectedClearMs: at('14:37:10'),
  requestsPerSlice: 23,
  sliceMs: 10_000,
  /** Delay between a slice's end and its message. */
  sendDelayMs: 400,
} as const;

const POLICY_HASH = 'sha256:9c1e4f0a2b7d';

/** Bad requests (over 2 s) in the 10-second slice starting at `startMs`. */
export function jasperBadInSlice(startMs: number): number {
  if (startMs < JASPER.onsetMs) return 0;
  if (startMs < at('14:32:20')) return 12;
  const tail: Record<number, number> = {
    [at('14:32:20')]: 10,
    [at('14:32:30')]: 8,
    [at('14:32:40')]: 6,
    [at('14:32:50')]: 4,
    [at('14:33:00')]: 2,
    [at('14:33:10')]: 1,
  };
  return tail[startMs] ?? 0;
}

/** The whole recorded stream, in send order, `seq` from 1. */
export function buildJasperStream(): AgentMessage[] {
  const payloads: { sentAtMs: number; payload: AgentPayload }[] = [
    { sentAtMs: JASPER.startMs, payload: { type: 'hello', hello: hello() } },
    ...sliPayloads(),
    ...snapshotPayloads(),
    ...guardEvents().map((guard) => ({
      sentAtMs: guard.atMs + 50,
      payload: { type: 'guard' as const, guard },
    })),
    ...healthEvents().map((health) => ({
      sentAtMs: health.atMs + 50,
      payload: { type: 'health' as const, health },
    })),
  ];
  payloads.sort((a, b) => a.sentAtMs - b.sentAtMs);
  return payloads.map((p, i) => ({
    node: JASPER.node,
    seq: i + 1,
    sentAtMs: p.sentAtMs,
    payload: p.payload,
  }));
}

/** The stream as the JSON lines an agent's `--record` writes. */
export function jasperStreamText(): string {
  return buildJasperStream()
    .map((m) => JSON.stringify(m))
    .join('\n')
    .concat('\n');
}

/** An SLI payload: `latenciesMs` successful, `failed` failed. */
export function sliPayload(
  startMs: number,
  endMs: number,
  latenciesMs: number[],
  failed = 0,
): AgentPayload {
  const latencyCounts = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  for (const ms of latenciesMs) latencyCounts[latencyBucket(ms)]! += 1;
  return {
    type: 'sli',
    sli: {
      source: 'requests',
      workload: 'ollama',
      model: JASPER.model,
      intervalStartMs: startMs,
      intervalEndMs: endMs,
      total: latenciesMs.length + failed,
      failed,
      latencyCounts,
    },
  };
}

function sliPayloads() {
  const out: { sentAtMs: number; payload: AgentPayload }[] = [];
  for (let t = JASPER.startMs; t < JASPER.endMs; t += JASPER.sliceMs) {
    out.push({
      sentAtMs: t + JASPER.sliceMs + JASPER.sendDelayMs,
      payload: sliPayload(t, t + JASPER.sliceMs, sliceLatencies(t)),
    });
  }
  return out;
}

function sliceLatencies(startMs: number): number[] {
  const bad = jasperBadInSlice(startMs);
  const n = JASPER.requestsPerSlice;
  if (startMs >= JASPER.onsetMs && startMs < JASPER.recoveredMs) {
    const slowGoodMs = startMs < at('14:32:20') ? 1800 : 900;
    return [
      ...new Array<number>(bad).fill(2600),
      ...new Array<number>(n - bad).fill(slowGoodMs),
    ];
  }
  return [
    90,
    95,
    ...new Array<number>(12).fill(240),
    ...new Array<number>(9).fill(420),
  ];
}

function snapshotPayloads() {
  const out: { sentAtMs: number; payload: AgentPayload }[] = [];
  for (let t = JASPER.startMs; t < JASPER.endMs;) {
    out.push({
      sentAtMs: t + 200,
      payload: { type: 'snapshot', snapshot: snapshot(t) },
    });
    const busy = t >= at('14:29:00') && t < at('14:35:00');
    t += busy ? 10_000 : 300_000;
  }
  return out;
}

function snapshot(takenMs: number): Snapshot {
  const tunnel = takenMs >= JASPER.onsetMs && takenMs < JASPER.killedMs;
  const processes: GpuProcess[] = [ollamaProcess()];
  if (tunnel) processes.push(tunnelProcess());
  const usedBytes = processes.reduce((sum, p) => sum + (p.usedBytes ?? 0), 0);
  return {
    node: JASPER.node,
    takenAt: new Date(takenMs).toISOString(),
    source: 'nvml',
    driverVersion: '550.54.14',
    gpus: [
      {
        index: 0,
        uuid: JASPER.gpuUuid,
        name: JASPER.gpuName,
        pciBusId: '00000000:01:00.0',
        memory: {
          totalBytes: JASPER.totalBytes,
          usedBytes,
          freeBytes: JASPER.totalBytes - usedBytes,
          reservedBytes: 0,
        },
        utilizationPercent: { gpu: tunnel ? 98 : 41, memory: tunnel ? 88 : 30 },
        temperatureC: tunnel ? 78 : 63,
        powerWatts: tunnel ? 402 : 260,
        migEnabled: null,
        processes,
      },
    ],
    problems: [],
  };
}

function ollamaProcess(): GpuProcess {
  return {
    pid: JASPER.ollamaPid,
    name: 'ollama',
    type: 'compute',
    usedBytes: JASPER.ollamaBytes,
    user: 'ollama',
    command:
      '/usr/local/bin/ollama runner --model /usr/share/ollama/.ollama/models/blobs/sha256-qwen2.5-32b --ctx-size 8192 --n-gpu-layers 65 --port 41233',
    startedAt: '2026-02-28T07:41:12.000Z',
    unit: 'ollama.service',
  };
}

function tunnelProcess(): GpuProcess {
  return {
    pid: JASPER.tunnelPid,
    name: 'code-tunnel',
    type: 'compute',
    usedBytes: JASPER.tunnelBytes,
    user: 'dev',
    command: JASPER.tunnelCommand,
    startedAt: '2026-02-28T14:29:41.000Z',
    unit: 'user@1000.service',
  };
}

function tunnelRef(): ProcessRef {
  return {
    pid: JASPER.tunnelPid,
    name: 'code-tunnel',
    user: 'dev',
    unit: 'user@1000.service',
    command: JASPER.tunnelCommand,
    usedBytes: JASPER.tunnelBytes,
  };
}

function hello(): Hello {
  return {
    node: JASPER.node,
    agentVersion: '0.1.0',
    bootId: '5e0c2a1d-7f4b-4c8e-9b3a-2d6f1e8c4a7b',
    startedAtMs: at('07:59:58'),
    host: {
      os: 'Ubuntu 24.04.1 LTS',
      kernel: '6.8.0-51-generic',
      cpu: 'AMD Ryzen 9 7950X 16-Core Processor',
      memoryBytes: 64 * 2 ** 30,
    },
    gpus: [
      {
        index: 0,
        uuid: JASPER.gpuUuid,
        name: JASPER.gpuName,
        totalBytes: JASPER.totalBytes,
      },
    ],
    policy: {
      mode: 'enforce',
      policyHash: POLICY_HASH,
      reservations: [
        {
          gpu: JASPER.gpuUuid,
          reservedBytes: JASPER.reservedBytes,
          workload: 'ollama',
        },
      ],
    },
  };
}

function guardEvent(
  hms: string,
  kind: GuardEvent['kind'],
  state: string,
  message: string,
  extra: Partial<GuardEvent> = {},
): GuardEvent {
  const breached = at(hms) < at('14:32:21');
  const freeBytes = breached
    ? JASPER.totalBytes - JASPER.ollamaBytes - JASPER.tunnelBytes
    : JASPER.totalBytes - JASPER.ollamaBytes;
  return {
    atMs: at(hms),
    kind,
    gpuUuid: JASPER.gpuUuid,
    state,
    mode: 'enforce',
    message,
    reservedBytes: JASPER.reservedBytes,
    protectedBytes: JASPER.ollamaBytes,
    freeBytes,
    deficitBytes: breached ? 1024 * MIB : 0,
    process: tunnelRef(),
    freedBytes: null,
    signal: null,
    policyHash: POLICY_HASH,
    details: {},
    ...extra,
  };
}

function guardEvents(): GuardEvent[] {
  return [
    guardEvent(
      '14:30:02.100',
      'breach',
      'soft_breach',
      'reservation for ollama on GPU 0 short by 1.0 GiB: code-tunnel (pid 41872, user dev) holds 3.0 GiB',
      { details: { samples: 2 } },
    ),
    guardEvent(
      '14:31:02.300',
      'warning',
      'soft_breach',
      'warned dev: code-tunnel (pid 41872) holds 3.0 GiB of the VRAM reserved for ollama on GPU 0',
      { details: { softGraceMs: 60_000, notified: ['dev'] } },
    ),
    guardEvent(
      '14:32:14.200',
      'plan',
      'hard_breach',
      'plan: stop code-tunnel (pid 41872, 3.0 GiB) to restore the 22.0 GiB reservation for ollama',
      {
        details: {
          harm: ['model_partly_on_cpu'],
          hardGraceMs: 10_000,
          candidates: [
            {
              pid: JASPER.tunnelPid,
              usedBytes: JASPER.tunnelBytes,
              culprit: true,
            },
          ],
        },
      },
    ),
    guardEvent(
      '14:32:14.600',
      'signal',
      'hard_breach',
      'sent SIGTERM to code-tunnel (pid 41872)',
      { signal: 'SIGTERM', details: { startTimeTicks: 98_765_432 } },
    ),
    guardEvent(
      '14:32:19.600',
      'kill',
      'hard_breach',
      'code-tunnel (pid 41872) still running 5 s after SIGTERM; sent SIGKILL',
      { signal: 'SIGKILL', details: { termTimeoutMs: 5000 } },
    ),
    guardEvent(
      '14:32:21.000',
      'freed',
      'recovering',
      'code-tunnel (pid 41872) exited; 3.0 GiB freed on GPU 0',
      { freedBytes: JASPER.tunnelBytes },
    ),
    guardEvent(
      '14:37:21.000',
      'recovered',
      'ok',
      'reservation for ollama on GPU 0 held for 5 minutes; back to ok',
      { process: null },
    ),
  ];
}

function ollamaStatus(offloadedBytes: number, latencyMs: number): OllamaStatus {
  return {
    reachable: true,
    version: '0.6.2',
    model: JASPER.model,
    resident: true,
    sizeBytes: JASPER.ollamaBytes,
    sizeVramBytes: JASPER.ollamaBytes - offloadedBytes,
    offloadedBytes,
    expiresAtMs: at('15:32:00'),
    lastLatencyMs: latencyMs,
  };
}

function healthEvents(): HealthEvent[] {
  return [
    {
      atMs: at('14:32:04'),
      component: 'ollama',
      status: 'degraded',
      kind: 'model_partly_on_cpu',
      message:
        'qwen2.5:32b is partly on CPU: 1.2 GiB of 20.1 GiB offloaded to system RAM',
      ollama: ollamaStatus(1229 * MIB, 2650),
      details: { layersOnGpu: 61, layersTotal: 65 },
    },
    {
      atMs: at('14:33:20'),
      component: 'ollama',
      status: 'ok',
      kind: 'model_resident',
      message: 'qwen2.5:32b fully on GPU 0 again',
      ollama: ollamaStatus(0, 410),
      details: {},
    },
  ];
}
