/** In-memory WebSources for the web tests. */
import type {
  ActionOutcome,
  ChangeTopic,
  IncidentView,
  NodeView,
  SloView,
  WebSources,
} from '../../../collector/src/web/ports.ts';

export interface MemorySources extends WebSources {
  nodeList: NodeView[];
  sloList: SloView[];
  incidentList: IncidentView[];
  notes: { id: string; by: string; text: string }[];
  emit(topic: ChangeTopic): void;
}

export function jasperNode(usedByTunnelBytes = 3 * 2 ** 30): NodeView {
  const GiB = 2 ** 30;
  return {
    node: 'jasper',
    connected: true,
    lastSeenMs: Date.parse('2026-02-28T14:31:00Z'),
    hello: {
      node: 'jasper',
      agentVersion: '0.1.0',
      bootId: 'b1',
      startedAtMs: 0,
      host: {
        os: 'Debian 12',
        kernel: '6.1',
        cpu: 'Ryzen 9',
        memoryBytes: 64 * GiB,
      },
      gpus: [
        {
          index: 0,
          uuid: 'GPU-1',
          name: 'NVIDIA GeForce RTX 4090',
          totalBytes: 24 * GiB,
        },
      ],
      policy: {
        mode: 'enforce',
        policyHash: 'abc',
        reservations: [
          { gpu: 'GPU-1', reservedBytes: 20 * GiB, workload: 'ollama' },
        ],
      },
    },
    snapshot: {
      node: 'jasper',
      takenAt: '2026-02-28T14:31:00.000Z',
      source: 'nvml',
      driverVersion: '550.54.14',
      problems: [],
      gpus: [
        {
          index: 0,
          uuid: 'GPU-1',
          name: 'NVIDIA GeForce RTX 4090',
          pciBusId: '00000000:01:00.0',
          memory: {
            totalBytes: 24 * GiB,
            usedBytes: 20 * GiB + usedByTunnelBytes,
            freeBytes: 4 * GiB - usedByTunnelBytes,
            reservedBytes: null,
          },
          utilizationPercent: { gpu: 98, memory: 80 },
          temperatureC: 71,
          powerWatts: 402.5,
          migEnabled: null,
          processes: [
            {
              pid: 2210,
              name: 'ollama',
              type: 'compute',
              usedBytes: 20 * GiB,
              user: 'ollama',
              command: '/usr/local/bin/ollama runner',
              startedAt: null,
              protected: true,
            },
            {
              pid: 41872,
              name: 'code-tunnel',
              type: 'compute',
              usedBytes: usedByTunnelBytes,
              user: 'dev',
              command: 'code-tunnel tunnel',
              startedAt: null,
            },
          ],
        },
      ],
    },
    ollama: {
      reachable: true,
      version: '0.6.2',
      model: 'qwen2.5:32b',
      resident: true,
      sizeBytes: 20 * GiB,
      sizeVramBytes: 17 * GiB,
      offloadedBytes: 3 * GiB,
      expiresAtMs: null,
      lastLatencyMs: 2400,
    },
    sampler: { source: 'nvml', lastError: null, stale: false },
    guard: [],
  };
}

export function createMemorySources(): MemorySources {
  const listeners = new Set<(topic: ChangeTopic) => void>();
  const sources: MemorySources = {
    nodeList: [jasperNode()],
    sloList: [
      {
        slo: 'ollama_availability',
        node: 'jasper',
        targetPercent: 99.5,
        dataState: 'ok',
        burnRates: { rolling_1h: 3.2, rolling_5m: 12.5 },
        budgetRemainingRatio: 0.93,
        firing: null,
        history: [],
      },
    ],
    incidentList: [
      {
        id: 'INC-20260228-a3f7',
        status: 'open',
        severity: 'SEV2',
        title: 'Ollama inference latency spike on Jasper',
        openedAt: '2026-02-28T14:32:00Z',
      },
    ],
    notes: [],
    nodes: () => sources.nodeList,
    slos: () => sources.sloList,
    isReady: () => true,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(topic) {
      for (const listener of listeners) listener(topic);
    },
    incidents: {
      list: () => sources.incidentList,
      get: (id) => sources.incidentList.find((i) => i.id === id) ?? null,
      ack: (id, by) => transition(sources, id, 'acknowledged', by),
      resolve: (id, by) => transition(sources, id, 'resolved', by),
      addNote: async (id, by, text) => {
        const incident = sources.incidentList.find((i) => i.id === id);
        if (!incident)
          return { ok: false, status: 404, message: `no incident ${id}` };
        sources.notes.push({ id, by, text });
        return { ok: true, incident };
      },
      postmortemMarkdown: async (id) =>
        id === 'INC-20260228-a3f7' ? '# Postmortem: INC-20260228-a3f7\n' : null,
    },
  };
  return sources;
}

async function transition(
  sources: MemorySources,
  id: string,
  status: string,
  _by: string,
): Promise<ActionOutcome> {
  const incident = sources.incidentList.find((i) => i.id === id);
  if (!incident)
    return { ok: false, status: 404, message: `no incident ${id}` };
  if (incident.status === 'resolved') {
    return { ok: false, status: 409, message: `${id} is already resolved` };
  }
  incident.status = status;
  return { ok: true, incident };
}
