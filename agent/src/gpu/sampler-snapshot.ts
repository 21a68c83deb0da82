/**
 * Turns what a GPU source read plus what `/proc` knows into a
 * {@link Snapshot} (DESIGN §3.2). Pure: no I/O, the time comes in.
 */
import type {
  GpuProcess,
  GpuSnapshot,
  SampleProblem,
  Snapshot,
} from '../../../shared/src/snapshot.ts';
import { formatBytes } from '../../../shared/src/units.ts';
import type { ProcessInfo } from './proc-reader.ts';
import type { RawGpu, RawProcess, SourceSample } from './source.ts';

/** Inputs of {@link buildSnapshot}. */
export interface SnapshotInput {
  node: string;
  /** When the sample was taken, epoch ms. */
  takenAtMs: number;
  sample: SourceSample;
  /**
   * `/proc` readings by pid (`null`: the pid cannot be seen), or `null`
   * when there was no enrichment (a saved nvidia-smi output).
   */
  procs: ReadonlyMap<number, ProcessInfo | null> | null;
  /** Set when the agent runs in a nested PID namespace. */
  nestedPidNamespace?: boolean | null;
  /** Problems from the sampler itself (fallbacks), listed first. */
  problems?: readonly SampleProblem[];
}

/** Builds the snapshot; every process keeps its memory, resolved or not. */
export function buildSnapshot(input: SnapshotInput): Snapshot {
  const { sample, procs } = input;
  const gpus = sample.gpus.map((gpu) => buildGpu(gpu, procs));

  return {
    node: input.node,
    takenAt: new Date(input.takenAtMs).toISOString(),
    source: sample.source,
    driverVersion: sample.driverVersion,
    gpus,
    problems: [
      ...(input.problems ?? []),
      ...sample.problems,
      ...procProblems(gpus, procs, input.nestedPidNamespace ?? null),
    ],
  };
}

function buildGpu(
  gpu: RawGpu,
  procs: ReadonlyMap<number, ProcessInfo | null> | null,
): GpuSnapshot {
  return {
    index: gpu.index,
    uuid: gpu.uuid,
    name: gpu.name,
    pciBusId: gpu.pciBusId,
    memory: { ...gpu.memory },
    utilizationPercent: { ...gpu.utilizationPercent },
    temperatureC: gpu.temperatureC,
    powerWatts: gpu.powerWatts,
    migEnabled: gpu.migEnabled,
    processes: gpu.processes.map((raw) =>
      procs === null ? bareProcess(raw) : enrich(raw, procs.get(raw.pid)),
    ),
  };
}

function bareProcess(raw: RawProcess): GpuProcess {
  return {
    pid: raw.pid,
    name: raw.name,
    type: raw.type,
    usedBytes: raw.usedBytes,
    user: null,
    command: null,
    startedAt: null,
  };
}

function enrich(raw: RawProcess, info: ProcessInfo | null | undefined) {
  if (!info) return unresolved(raw);
  const process: GpuProcess = {
    pid: raw.pid,
    name: info.comm,
    type: raw.type,
    usedBytes: raw.usedBytes,
    user: info.user,
    command: info.command,
    startedAt:
      info.startedAtMs === null
        ? null
        : new Date(info.startedAtMs).toISOString(),
    uid: info.uid,
    ppid: info.ppid,
    unit: info.unit,
    cgroup: info.cgroup,
    container: info.container,
    state: info.state,
    startTimeTicks: info.startTimeTicks,
    exe: info.exe,
    oomScoreAdj: info.oomScoreAdj,
    resolved: true,
  };
  return process;
}

function unresolved(raw: RawProcess): GpuProcess {
  return {
    ...bareProcess(raw),
    uid: null,
    ppid: null,
    unit: null,
    cgroup: null,
    container: null,
    state: null,
    startTimeTicks: null,
    exe: null,
    oomScoreAdj: null,
    resolved: false,
  };
}

function procProblems(
  gpus: readonly GpuSnapshot[],
  procs: ReadonlyMap<number, ProcessInfo | null> | null,
  nested: boolean | null,
): SampleProblem[] {
  if (procs === null) return [];
  const problems: SampleProblem[] = [];
  const unresolvedPids = new Set<number>();
  for (const gpu of gpus) {
    for (const p of gpu.processes) {
      if (p.resolved === false) unresolvedPids.add(p.pid);
      if (p.state === 'Z') problems.push(zombieProblem(gpu, p));
    }
  }
  if (unresolvedPids.size > 0) {
    problems.unshift(unresolvedProblem([...unresolvedPids], nested));
  }
  return problems;
}

function zombieProblem(gpu: GpuSnapshot, p: GpuProcess): SampleProblem {
  return {
    gpuUuid: gpu.uuid,
    kind: 'zombie_holder',
    message: `pid ${p.pid} (${p.name ?? 'unknown'}) on GPU ${gpu.index} is a zombie still holding ${formatBytes(p.usedBytes)}; its parent (pid ${p.ppid ?? 'unknown'}) must reap it, killing the zombie itself does nothing`,
  };
}

function unresolvedProblem(pids: number[], nested: boolean | null) {
  const list = pids.slice(0, 8).join(', ') + (pids.length > 8 ? ', …' : '');
  const hint = nested
    ? 'the agent runs in its own PID namespace; run it in the host PID namespace (systemd, or a container with --pid=host) to attribute memory'
    : 'they exited during the sample or live in a PID namespace this agent cannot see; their memory is still counted';
  const problem: SampleProblem = {
    kind: 'pid_unresolved',
    message: `GPU pids not found in /proc (${list}): ${hint}`,
  };
  return problem;
}
