/**
 * Snapshot ⇄ wire object (`gpuwarden.v1.Snapshot`). Times travel as int64
 * milliseconds and come back as `toISOString()` text; unknown values are
 * absent on the wire and null here. The optional process extras (`uid`,
 * `unit`, …) are omitted here when absent on the wire, whether they were
 * null or missing on the sending side: both mean "not known".
 */
import type {
  GpuProcess,
  GpuProcessType,
  GpuSnapshot,
  SampleProblem,
  SampleSource,
  Snapshot,
} from '../snapshot.ts';
import { hasStart, IDENTITY_FIELDS } from './process-identity.ts';
import type { IdentityMemory } from './identity-memory.ts';
import type { IdentityElider } from './process-identity.ts';
import {
  enumTable,
  isoToMs,
  msToIso,
  msToIsoMemo,
  optional,
  toSafeInteger,
  optionalInt,
  WireProblem,
} from './wire-values.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- wire objects are
   protobufjs messages whose shape the .proto file defines. */
type Wire = any;

const sources = enumTable<SampleSource>(['nvml', 'nvidia-smi']);
const processTypes = enumTable<GpuProcessType>([
  'compute',
  'graphics',
  'compute+graphics',
]);

/** Optional process fields copied as they are (strings and booleans). */
const PLAIN_EXTRAS = [
  'unit',
  'cgroup',
  'container',
  'state',
  'exe',
  'resolved',
  'protected',
] as const;

/** Optional numeric process fields, 32-bit on the wire. */
const NUMBER_EXTRAS = ['uid', 'ppid', 'oomScoreAdj'] as const;

const EXTRAS = [...PLAIN_EXTRAS, ...NUMBER_EXTRAS];
const EXTRA_SET = new Set<string>(EXTRAS);

/**
 * A snapshot as the object protobufjs encodes. With an `elider`, process
 * entries whose identity the collector already has leave it out
 * (`process-identity.ts`).
 */
export function snapshotToWire(
  snapshot: Snapshot,
  elider: IdentityElider | null = null,
): Wire {
  const omit = elider?.elide(snapshot) ?? null;
  return {
    node: snapshot.node,
    takenAtMs: isoToMs(snapshot.takenAt, 'snapshot.takenAt'),
    source: sources.toWire(snapshot.source),
    driverVersion: snapshot.driverVersion,
    gpus: snapshot.gpus.map((gpu) => gpuToWire(gpu, omit)),
    problems: snapshot.problems.map((problem) => ({
      gpuUuid: problem.gpuUuid ?? null,
      kind: problem.kind,
      message: problem.message,
    })),
  };
}

function gpuToWire(gpu: GpuSnapshot, omit: Set<GpuProcess> | null): Wire {
  return {
    index: gpu.index,
    uuid: gpu.uuid,
    name: gpu.name,
    pciBusId: gpu.pciBusId,
    memoryTotalBytes: gpu.memory.totalBytes,
    memoryUsedBytes: gpu.memory.usedBytes,
    memoryFreeBytes: gpu.memory.freeBytes,
    memoryReservedBytes: gpu.memory.reservedBytes,
    utilizationGpuPercent: gpu.utilizationPercent.gpu,
    utilizationMemoryPercent: gpu.utilizationPercent.memory,
    temperatureC: gpu.temperatureC,
    powerWatts: gpu.powerWatts,
    migEnabled: gpu.migEnabled,
    processes: gpu.processes.map((process) =>
      processToWire(process, omit?.has(process) ?? false),
    ),
  };
}

function processToWire(process: GpuProcess, omitIdentity: boolean): Wire {
  const wire: Wire = {
    pid: process.pid,
    name: process.name,
    type: processTypes.toWire(process.type),
    usedBytes: process.usedBytes,
    user: process.user,
    command: process.command,
    startedAtMs:
      process.startedAt === null
        ? null
        : isoToMs(process.startedAt, 'process.startedAt'),
    startTimeTicks: process.startTimeTicks ?? null,
  };
  for (const key of EXTRAS) {
    wire[key] = process[key] ?? null;
  }
  if (omitIdentity) {
    for (const key of IDENTITY_FIELDS) wire[key] = null;
    wire.identityAsBefore = true;
  }
  return wire;
}

/**
 * A decoded wire snapshot as a {@link Snapshot}; throws WireProblem.
 * Entries that left their identity out take it from `identities` (null
 * fields when it has none); full entries are staged there.
 */
export function snapshotFromWire(
  wire: Wire,
  isoByMs: Map<number, string> = new Map(),
  identities: IdentityMemory | null = null,
): Snapshot {
  const memo = { isoByMs, identities };
  return {
    node: wire.node,
    takenAt: msToIso(toSafeInteger(wire.takenAtMs, 'takenAtMs'), 'takenAt'),
    source: sources.fromWire(wire.source, 'snapshot.source'),
    driverVersion: optional(wire, 'driverVersion'),
    gpus: wire.gpus.map((gpu: Wire) => gpuFromWire(gpu, memo)),
    problems: wire.problems.map(problemFromWire),
  };
}

function problemFromWire(wire: Wire): SampleProblem {
  const problem: SampleProblem = { kind: wire.kind, message: wire.message };
  if (Object.hasOwn(wire, 'gpuUuid')) problem.gpuUuid = wire.gpuUuid;
  return problem;
}

interface DecodeMemo {
  isoByMs: Map<number, string>;
  identities: IdentityMemory | null;
}

function gpuFromWire(wire: Wire, memo: DecodeMemo): GpuSnapshot {
  return {
    index: wire.index,
    uuid: wire.uuid,
    name: optional(wire, 'name'),
    pciBusId: optional(wire, 'pciBusId'),
    memory: {
      totalBytes: optionalInt(wire, 'memoryTotalBytes'),
      usedBytes: optionalInt(wire, 'memoryUsedBytes'),
      freeBytes: optionalInt(wire, 'memoryFreeBytes'),
      reservedBytes: optionalInt(wire, 'memoryReservedBytes'),
    },
    utilizationPercent: {
      gpu: optional(wire, 'utilizationGpuPercent'),
      memory: optional(wire, 'utilizationMemoryPercent'),
    },
    temperatureC: optional(wire, 'temperatureC'),
    powerWatts: optional(wire, 'powerWatts'),
    migEnabled: optional(wire, 'migEnabled'),
    processes: wire.processes.map((p: Wire) => processFromWire(p, memo)),
  };
}

function processFromWire(wire: Wire, memo: DecodeMemo): GpuProcess {
  const startedAtMs = optionalInt(wire, 'startedAtMs');
  const process: GpuProcess = {
    pid: wire.pid,
    name: optional(wire, 'name'),
    type: processTypes.fromWire(wire.type, 'process.type'),
    usedBytes: optionalInt(wire, 'usedBytes'),
    user: optional(wire, 'user'),
    command: optional(wire, 'command'),
    startedAt:
      startedAtMs === null
        ? null
        : msToIsoMemo(startedAtMs, 'startedAt', memo.isoByMs),
  };
  for (const key of Object.keys(wire)) {
    if (key === 'startTimeTicks') {
      process.startTimeTicks = toSafeInteger(wire[key], key);
    } else if (EXTRA_SET.has(key)) {
      (process as unknown as Record<string, unknown>)[key] = wire[key];
    }
  }
  if (wire.identityAsBefore === true) {
    for (const key of IDENTITY_FIELDS) {
      if (Object.hasOwn(wire, key)) {
        throw new WireProblem(
          `process.${key}`,
          'must be absent when identityAsBefore is set',
        );
      }
    }
    if (!hasStart(process)) {
      throw new WireProblem(
        'process.identityAsBefore',
        'needs startedAtMs or startTimeTicks',
      );
    }
    memo.identities?.fill(process);
  } else memo.identities?.stage(process);
  return process;
}
