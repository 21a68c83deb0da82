/**
 * Hello, SLI, guard and health events ⇄ wire objects. Absent optionals are
 * null here; details travel as JSON text.
 */
import type {
  GuardEvent,
  GuardEventKind,
  HealthEvent,
  Hello,
  OllamaStatus,
  PolicySummary,
  ProcessRef,
  SliEvent,
} from '../messages.ts';
import {
  detailsFromJson,
  detailsToJson,
  enumTable,
  optional,
  toSafeInteger,
  optionalInt,
} from './wire-values.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- wire objects are
   protobufjs messages whose shape the .proto file defines. */
type Wire = any;

const guardModes = enumTable<PolicySummary['mode']>([
  'observe',
  'warn',
  'enforce-term',
  'enforce',
]);
const sliSources = enumTable<SliEvent['source']>(['probe', 'requests']);
const guardKinds = enumTable<GuardEventKind>([
  'breach',
  'warning',
  'plan',
  'signal',
  'kill',
  'abort',
  'freed',
  'infeasible',
  'breaker',
  'recovered',
  'offload_persists',
  'reload',
]);
const components = enumTable<HealthEvent['component']>([
  'sampler',
  'ollama',
  'guard',
  'link',
]);
const statuses = enumTable<HealthEvent['status']>(['ok', 'degraded', 'down']);

/** A hello as the object protobufjs encodes. */
export function helloToWire(hello: Hello): Wire {
  return {
    ...hello,
    startedAtMs: hello.startedAtMs,
    policy: {
      mode: guardModes.toWire(hello.policy.mode),
      policyHash: hello.policy.policyHash,
      reservations: hello.policy.reservations,
    },
  };
}

/** A decoded wire hello as a {@link Hello}; throws WireProblem. */
export function helloFromWire(wire: Wire): Hello {
  const host = wire.host ?? {};
  return {
    node: wire.node,
    agentVersion: wire.agentVersion,
    bootId: optional(wire, 'bootId'),
    startedAtMs: toSafeInteger(wire.startedAtMs, 'hello.startedAtMs'),
    host: {
      os: optional(host, 'os'),
      kernel: optional(host, 'kernel'),
      cpu: optional(host, 'cpu'),
      memoryBytes: optionalInt(host, 'memoryBytes'),
    },
    gpus: wire.gpus.map((gpu: Wire) => ({
      index: gpu.index,
      uuid: gpu.uuid,
      name: optional(gpu, 'name'),
      totalBytes: optionalInt(gpu, 'totalBytes'),
    })),
    policy: policyFromWire(wire.policy ?? { reservations: [] }),
  };
}

function policyFromWire(wire: Wire): PolicySummary {
  return {
    mode: guardModes.fromWire(wire.mode, 'policy.mode'),
    policyHash: wire.policyHash,
    reservations: wire.reservations.map((item: Wire) => ({
      gpu: item.gpu,
      reservedBytes: toSafeInteger(item.reservedBytes, 'reservedBytes'),
      workload: item.workload,
    })),
  };
}

/** An SLI event as the object protobufjs encodes. */
export function sliToWire(sli: SliEvent): Wire {
  return { ...sli, source: sliSources.toWire(sli.source) };
}

/** A decoded wire SLI event as a {@link SliEvent}; throws WireProblem. */
export function sliFromWire(wire: Wire): SliEvent {
  return {
    source: sliSources.fromWire(wire.source, 'sli.source'),
    workload: wire.workload,
    model: optional(wire, 'model'),
    intervalStartMs: toSafeInteger(wire.intervalStartMs, 'intervalStartMs'),
    intervalEndMs: toSafeInteger(wire.intervalEndMs, 'intervalEndMs'),
    total: toSafeInteger(wire.total, 'sli.total'),
    failed: toSafeInteger(wire.failed, 'sli.failed'),
    latencyCounts: wire.latencyCounts.map((count: unknown) =>
      toSafeInteger(count, 'sli.latencyCounts'),
    ),
  };
}

/** A guard event as the object protobufjs encodes. */
export function guardToWire(guard: GuardEvent): Wire {
  return {
    ...guard,
    kind: guardKinds.toWire(guard.kind),
    mode: guardModes.toWire(guard.mode),
    detailsJson: detailsToJson(guard.details),
  };
}

/** A decoded wire guard event as a {@link GuardEvent}; throws WireProblem. */
export function guardFromWire(wire: Wire): GuardEvent {
  const bytes = (key: string): number | null => optionalInt(wire, key);
  return {
    atMs: toSafeInteger(wire.atMs, 'guard.atMs'),
    kind: guardKinds.fromWire(wire.kind, 'guard.kind'),
    gpuUuid: wire.gpuUuid,
    state: wire.state,
    mode: guardModes.fromWire(wire.mode, 'guard.mode'),
    message: wire.message,
    reservedBytes: bytes('reservedBytes'),
    protectedBytes: bytes('protectedBytes'),
    freeBytes: bytes('freeBytes'),
    deficitBytes: bytes('deficitBytes'),
    process: !Object.hasOwn(wire, 'process')
      ? null
      : processRefFromWire(wire.process),
    freedBytes: bytes('freedBytes'),
    signal: optional(wire, 'signal'),
    policyHash: wire.policyHash,
    details: detailsFromJson(wire.detailsJson, 'guard.details'),
  };
}

function processRefFromWire(wire: Wire): ProcessRef {
  return {
    pid: wire.pid,
    name: optional(wire, 'name'),
    user: optional(wire, 'user'),
    unit: optional(wire, 'unit'),
    command: optional(wire, 'command'),
    usedBytes: optionalInt(wire, 'usedBytes'),
  };
}

/** A health event as the object protobufjs encodes. */
export function healthToWire(health: HealthEvent): Wire {
  return {
    ...health,
    component: components.toWire(health.component),
    status: statuses.toWire(health.status),
    detailsJson: detailsToJson(health.details),
  };
}

/** A decoded wire health event as a {@link HealthEvent}; throws WireProblem. */
export function healthFromWire(wire: Wire): HealthEvent {
  return {
    atMs: toSafeInteger(wire.atMs, 'health.atMs'),
    component: components.fromWire(wire.component, 'health.component'),
    status: statuses.fromWire(wire.status, 'health.status'),
    kind: wire.kind,
    message: wire.message,
    ollama: !Object.hasOwn(wire, 'ollama') ? null : ollamaFromWire(wire.ollama),
    details: detailsFromJson(wire.detailsJson, 'health.details'),
  };
}

function ollamaFromWire(wire: Wire): OllamaStatus {
  const int = (key: string): number | null => optionalInt(wire, key);
  return {
    reachable: wire.reachable,
    version: optional(wire, 'version'),
    model: optional(wire, 'model'),
    resident: optional(wire, 'resident'),
    sizeBytes: int('sizeBytes'),
    sizeVramBytes: int('sizeVramBytes'),
    offloadedBytes: int('offloadedBytes'),
    expiresAtMs: int('expiresAtMs'),
    lastLatencyMs: optional(wire, 'lastLatencyMs'),
  };
}
