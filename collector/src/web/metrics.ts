/**
 * Prometheus exposition of the fleet, SLOs and incidents. Values are read
 * from the sources at scrape time (no second copy of the state); names use
 * the `gpuwarden_` prefix and base units (bytes, seconds, ratios).
 */
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { NodeView, SloView, WebSources } from './ports.ts';

/** Options of {@link createMetricsRegistry}. */
export interface MetricsOptions {
  /** One series per GPU process; off by default (cardinality). */
  perProcessMetrics: boolean;
  /** Include the collector's own process metrics (default true). */
  processMetrics?: boolean;
}

type Labels = Record<string, string>;
type Sample = [Labels, number];

interface FamilySpec {
  name: string;
  help: string;
  labels: string[];
  read: (sources: WebSources, options: MetricsOptions) => Sample[];
}

const GPU_LABELS = ['node', 'gpu_uuid', 'gpu_index', 'gpu_name'];

function gpuSamples(
  nodes: NodeView[],
  pick: (
    gpu: NonNullable<NodeView['snapshot']>['gpus'][number],
  ) => number | null,
): Sample[] {
  const samples: Sample[] = [];
  for (const view of nodes) {
    for (const gpu of view.snapshot?.gpus ?? []) {
      const value = pick(gpu);
      if (value === null) continue;
      samples.push([
        {
          node: view.node,
          gpu_uuid: gpu.uuid,
          gpu_index: String(gpu.index),
          gpu_name: gpu.name ?? '',
        },
        value,
      ]);
    }
  }
  return samples;
}

function sloSamples(
  slos: SloView[],
  pick: (slo: SloView) => Sample[],
): Sample[] {
  return slos.flatMap(pick);
}

const ratio = (percent: number | null) =>
  percent === null ? null : percent / 100;

/** Every exported family, as a table. */
const FAMILIES: FamilySpec[] = [
  {
    name: 'gpuwarden_agent_connected',
    help: '1 when the node agent has a live stream to the collector',
    labels: ['node'],
    read: (s) => s.nodes().map((n) => [{ node: n.node }, n.connected ? 1 : 0]),
  },
  {
    name: 'gpuwarden_agent_last_seen_timestamp_seconds',
    help: 'Unix time of the last message from the node agent',
    labels: ['node'],
    read: (s) =>
      s
        .nodes()
        .filter((n) => n.lastSeenMs !== null)
        .map((n) => [{ node: n.node }, (n.lastSeenMs ?? 0) / 1000]),
  },
  {
    name: 'gpuwarden_gpu_memory_total_bytes',
    help: 'Total GPU memory',
    labels: GPU_LABELS,
    read: (s) => gpuSamples(s.nodes(), (g) => g.memory.totalBytes),
  },
  {
    name: 'gpuwarden_gpu_memory_used_bytes',
    help: 'GPU memory in use',
    labels: GPU_LABELS,
    read: (s) => gpuSamples(s.nodes(), (g) => g.memory.usedBytes),
  },
  {
    name: 'gpuwarden_gpu_memory_free_bytes',
    help: 'GPU memory free',
    labels: GPU_LABELS,
    read: (s) => gpuSamples(s.nodes(), (g) => g.memory.freeBytes),
  },
  {
    name: 'gpuwarden_gpu_utilization_ratio',
    help: 'GPU compute utilization, 0 to 1',
    labels: GPU_LABELS,
    read: (s) => gpuSamples(s.nodes(), (g) => ratio(g.utilizationPercent.gpu)),
  },
  {
    name: 'gpuwarden_gpu_temperature_celsius',
    help: 'GPU temperature',
    labels: GPU_LABELS,
    read: (s) => gpuSamples(s.nodes(), (g) => g.temperatureC),
  },
  {
    name: 'gpuwarden_gpu_power_watts',
    help: 'GPU power draw',
    labels: GPU_LABELS,
    read: (s) => gpuSamples(s.nodes(), (g) => g.powerWatts),
  },
  {
    name: 'gpuwarden_gpu_processes',
    help: 'Processes holding memory on the GPU',
    labels: GPU_LABELS,
    read: (s) => gpuSamples(s.nodes(), (g) => g.processes.length),
  },
  {
    name: 'gpuwarden_reservation_bytes',
    help: 'VRAM reserved for the protected workload by the guard policy',
    labels: ['node', 'gpu', 'workload'],
    read: (s) =>
      s
        .nodes()
        .flatMap((n) =>
          (n.hello?.policy.reservations ?? []).map((r): Sample => [
            { node: n.node, gpu: r.gpu, workload: r.workload },
            r.reservedBytes,
          ]),
        ),
  },
  {
    name: 'gpuwarden_process_memory_used_bytes',
    help: 'GPU memory held by one process (only with web.perProcessMetrics)',
    labels: ['node', 'gpu_uuid', 'pid', 'process'],
    read: (s, o) => (o.perProcessMetrics ? processSamples(s.nodes()) : []),
  },
  {
    name: 'gpuwarden_ollama_model_vram_bytes',
    help: 'Bytes of the watched model held in GPU memory',
    labels: ['node', 'model'],
    read: (s) =>
      s
        .nodes()
        .filter((n) => n.ollama?.sizeVramBytes != null)
        .map((n) => [
          { node: n.node, model: n.ollama?.model ?? '' },
          n.ollama?.sizeVramBytes ?? 0,
        ]),
  },
  {
    name: 'gpuwarden_ollama_model_offloaded_bytes',
    help: 'Bytes of the watched model held in system memory (partial offload)',
    labels: ['node', 'model'],
    read: (s) =>
      s
        .nodes()
        .filter((n) => n.ollama?.offloadedBytes != null)
        .map((n) => [
          { node: n.node, model: n.ollama?.model ?? '' },
          n.ollama?.offloadedBytes ?? 0,
        ]),
  },
  {
    name: 'gpuwarden_slo_burn_rate',
    help: 'Error-budget burn rate of the SLO over a window (1 = on budget)',
    labels: ['slo', 'node', 'window'],
    read: (s) =>
      sloSamples(s.slos(), (slo) =>
        Object.entries(slo.burnRates)
          .filter(([, burn]) => burn !== null)
          .map(([window, burn]) => [
            { slo: slo.slo, node: slo.node, window },
            burn ?? 0,
          ]),
      ),
  },
  {
    name: 'gpuwarden_slo_error_budget_remaining_ratio',
    help: 'Error budget left over the SLO period, 1 = untouched',
    labels: ['slo', 'node'],
    read: (s) =>
      sloSamples(s.slos(), (slo) =>
        slo.budgetRemainingRatio === null
          ? []
          : [[{ slo: slo.slo, node: slo.node }, slo.budgetRemainingRatio]],
      ),
  },
  {
    name: 'gpuwarden_slo_target_ratio',
    help: 'SLO target as a ratio, e.g. 0.995',
    labels: ['slo', 'node'],
    read: (s) =>
      sloSamples(s.slos(), (slo) => [
        [{ slo: slo.slo, node: slo.node }, slo.targetPercent / 100],
      ]),
  },
  {
    name: 'gpuwarden_incidents',
    help: 'Incidents by status and severity',
    labels: ['status', 'severity'],
    read: (s) => countIncidents(s),
  },
];

function processSamples(nodes: NodeView[]): Sample[] {
  return nodes.flatMap((n) =>
    (n.snapshot?.gpus ?? []).flatMap((g) =>
      g.processes
        .filter((p) => p.usedBytes !== null)
        .map((p): Sample => [
          {
            node: n.node,
            gpu_uuid: g.uuid,
            pid: String(p.pid),
            process: p.name ?? '',
          },
          p.usedBytes ?? 0,
        ]),
    ),
  );
}

function countIncidents(sources: WebSources): Sample[] {
  const counts = new Map<string, number>();
  for (const incident of sources.incidents.list()) {
    const key = `${incident.status}\u0000${incident.severity}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, count]) => {
    const [status = '', severity = ''] = key.split('\u0000');
    return [{ status, severity }, count];
  });
}

/** A registry whose gauges read `sources` at every scrape. */
export function createMetricsRegistry(
  sources: WebSources,
  options: MetricsOptions,
): Registry {
  const registry = new Registry();
  for (const family of FAMILIES) {
    new Gauge({
      name: family.name,
      help: family.help,
      labelNames: family.labels,
      registers: [registry],
      collect() {
        this.reset();
        for (const [labels, value] of family.read(sources, options)) {
          this.set(labels, value);
        }
      },
    });
  }
  if (options.processMetrics !== false) {
    collectDefaultMetrics({
      register: registry,
      prefix: 'gpuwarden_collector_',
    });
    // These three are gauges whose names end in _total, which the
    // exposition rules reserve for counters; leave them out.
    for (const kind of ['handles', 'requests', 'resources']) {
      registry.removeSingleMetric(
        `gpuwarden_collector_nodejs_active_${kind}_total`,
      );
    }
  }
  return registry;
}

/** The exported family names, for documentation and tests. */
export const METRIC_FAMILY_NAMES: readonly string[] = FAMILIES.map(
  (family) => family.name,
);
