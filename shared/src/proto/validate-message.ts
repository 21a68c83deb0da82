/**
 * Range checks on a decoded {@link AgentMessage}: what a well-behaved agent
 * never sends. The first failing check comes back as one line naming the
 * field, the rule and the value; nothing is clamped or guessed.
 */
import { LATENCY_BOUNDS_MS } from '../messages.ts';
import type {
  AgentMessage,
  GuardEvent,
  HealthEvent,
  Hello,
  SliEvent,
} from '../messages.ts';
import type { GpuProcess, GpuSnapshot, Snapshot } from '../snapshot.ts';

/** Limits a message must respect. */
export const MESSAGE_LIMITS = {
  textChars: 4096,
  commandChars: 16384,
  gpus: 256,
  processesPerGpu: 4096,
  problems: 1024,
  reservations: 256,
  detailsChars: 65536,
  /** 2000-01-01T00:00:00Z: no gpuwarden time is older. */
  minTimeMs: 946684800000,
  /** 2200-01-01T00:00:00Z. */
  maxTimeMs: 7258118400000,
} as const;

/** Node names: host-like, 1–63 characters. */
export const NODE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Thrown inside this module only; turned into the returned text. */
class Invalid extends Error {}

function check(condition: boolean, field: string, rule: string, got: unknown) {
  if (!condition) fail(field, rule, got);
}

function fail(field: string, rule: string, got: unknown): never {
  throw new Invalid(`${field} ${rule}, got ${JSON.stringify(got)}`);
}

function count(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    fail(field, 'must be a whole number ≥ 0', value);
  }
}

function optionalCount(value: number | null | undefined, field: string) {
  if (value !== null && value !== undefined) count(value, field);
}

function time(value: number, field: string): void {
  const valid =
    Number.isSafeInteger(value) &&
    value >= MESSAGE_LIMITS.minTimeMs &&
    value <= MESSAGE_LIMITS.maxTimeMs;
  if (!valid) fail(field, 'must be a time in ms between 2000 and 2200', value);
}

/**
 * An ISO time in the canonical `toISOString()` form the codec produces,
 * range-checked by comparing text (much cheaper than parsing it for every
 * process of every snapshot).
 */
function isoTime(value: string, field: string): void {
  if (value.length !== 24 || value < MIN_ISO || value > MAX_ISO) {
    fail(
      field,
      'must be a time between 2000 and 2200 as YYYY-MM-DDTHH:mm:ss.sssZ',
      value,
    );
  }
}

const MIN_ISO = '2000-01-01T00:00:00.000Z';
const MAX_ISO = '2200-01-01T00:00:00.000Z';

function text(
  value: string | null | undefined,
  field: string,
  max: number = MESSAGE_LIMITS.textChars,
) {
  if (value !== null && value !== undefined && value.length > max) {
    fail(field, `must be at most ${max} characters`, value.length);
  }
}

function range(value: number | null, field: string, min: number, max: number) {
  if (value === null) return;
  if (!Number.isFinite(value) || value < min || value > max) {
    fail(field, `must be between ${min} and ${max}`, value);
  }
}

/**
 * Process lists whose processes are known to pass the checks already (the
 * decoder handed them out again unchanged from an accepted message).
 */
export interface CheckedLists {
  validated(list: readonly GpuProcess[]): boolean;
}

/** Checks a message's ranges; the problem as one line, or null when valid. */
export function validateAgentMessage(
  message: AgentMessage,
  checked: CheckedLists | null = null,
): string | null {
  try {
    check(
      NODE_NAME_PATTERN.test(message.node),
      'node',
      'must be a host-like name',
      message.node,
    );
    check(
      Number.isSafeInteger(message.seq) && message.seq >= 1,
      'seq',
      'must be a whole number ≥ 1',
      message.seq,
    );
    time(message.sentAtMs, 'sentAtMs');
    validatePayload(message, checked);
    return null;
  } catch (error) {
    if (error instanceof Invalid) return error.message;
    throw error;
  }
}

function validatePayload(
  message: AgentMessage,
  checked: CheckedLists | null,
): void {
  const payload = message.payload;
  switch (payload.type) {
    case 'hello':
      return validateHello(payload.hello, message.node);
    case 'snapshot':
      return validateSnapshot(payload.snapshot, message.node, checked);
    case 'sli':
      return validateSli(payload.sli);
    case 'guard':
      return validateGuard(payload.guard);
    case 'health':
      return validateHealth(payload.health);
  }
}

function validateHello(hello: Hello, node: string): void {
  check(
    hello.node === node,
    'hello.node',
    `must equal the message node "${node}"`,
    hello.node,
  );
  time(hello.startedAtMs, 'hello.startedAtMs');
  optionalCount(hello.host.memoryBytes, 'hello.host.memoryBytes');
  check(
    hello.gpus.length <= MESSAGE_LIMITS.gpus,
    'hello.gpus',
    `must list at most ${MESSAGE_LIMITS.gpus}`,
    hello.gpus.length,
  );
  hello.gpus.forEach((gpu) =>
    optionalCount(gpu.totalBytes, 'hello.gpus.totalBytes'),
  );
  const reservations = hello.policy.reservations;
  check(
    reservations.length <= MESSAGE_LIMITS.reservations,
    'hello.policy.reservations',
    'must be few',
    reservations.length,
  );
  reservations.forEach((r) => count(r.reservedBytes, 'reservedBytes'));
}

function validateSnapshot(
  snapshot: Snapshot,
  node: string,
  checked: CheckedLists | null,
): void {
  check(
    snapshot.node === node,
    'snapshot.node',
    `must equal the message node "${node}"`,
    snapshot.node,
  );
  isoTime(snapshot.takenAt, 'snapshot.takenAt');
  check(
    snapshot.gpus.length <= MESSAGE_LIMITS.gpus,
    'snapshot.gpus',
    `must list at most ${MESSAGE_LIMITS.gpus}`,
    snapshot.gpus.length,
  );
  check(
    snapshot.problems.length <= MESSAGE_LIMITS.problems,
    'snapshot.problems',
    `must list at most ${MESSAGE_LIMITS.problems}`,
    snapshot.problems.length,
  );
  snapshot.problems.forEach((p) => text(p.message, 'problems.message'));
  for (const gpu of snapshot.gpus) validateGpu(gpu, checked);
}

function validateGpu(gpu: GpuSnapshot, checked: CheckedLists | null): void {
  text(gpu.uuid, 'gpus.uuid');
  const memory = gpu.memory;
  optionalCount(memory.totalBytes, 'gpus.memory.totalBytes');
  optionalCount(memory.usedBytes, 'gpus.memory.usedBytes');
  optionalCount(memory.freeBytes, 'gpus.memory.freeBytes');
  optionalCount(memory.reservedBytes, 'gpus.memory.reservedBytes');
  range(gpu.utilizationPercent.gpu, 'gpus.utilizationPercent.gpu', 0, 100);
  range(
    gpu.utilizationPercent.memory,
    'gpus.utilizationPercent.memory',
    0,
    100,
  );
  range(gpu.temperatureC, 'gpus.temperatureC', -100, 250);
  range(gpu.powerWatts, 'gpus.powerWatts', 0, 100000);
  check(
    gpu.processes.length <= MESSAGE_LIMITS.processesPerGpu,
    'gpus.processes',
    `must list at most ${MESSAGE_LIMITS.processesPerGpu}`,
    gpu.processes.length,
  );
  if (checked?.validated(gpu.processes)) return;
  for (const process of gpu.processes) validateProcess(process);
}

function validateProcess(process: GpuProcess): void {
  if (!(process.pid >= 1)) fail('processes.pid', 'must be ≥ 1', process.pid);
  optionalCount(process.usedBytes, 'processes.usedBytes');
  text(process.command, 'processes.command', MESSAGE_LIMITS.commandChars);
  text(process.cgroup, 'processes.cgroup');
  text(process.exe, 'processes.exe');
  if (process.startedAt !== null) {
    isoTime(process.startedAt, 'processes.startedAt');
  }
}

function validateSli(sli: SliEvent): void {
  time(sli.intervalStartMs, 'sli.intervalStartMs');
  time(sli.intervalEndMs, 'sli.intervalEndMs');
  check(
    sli.intervalEndMs >= sli.intervalStartMs,
    'sli.intervalEndMs',
    'must not be before intervalStartMs',
    sli.intervalEndMs,
  );
  count(sli.total, 'sli.total');
  count(sli.failed, 'sli.failed');
  const slots = LATENCY_BOUNDS_MS.length + 1;
  check(
    sli.latencyCounts.length === slots,
    'sli.latencyCounts',
    `must have ${slots} slots`,
    sli.latencyCounts.length,
  );
  const good = sli.latencyCounts.reduce((sum, n) => sum + n, 0);
  check(
    good + sli.failed === sli.total,
    'sli.total',
    'must equal failed plus the sum of latencyCounts',
    sli.total,
  );
}

function validateGuard(guard: GuardEvent): void {
  time(guard.atMs, 'guard.atMs');
  text(guard.message, 'guard.message');
  for (const key of [
    'reservedBytes',
    'protectedBytes',
    'freeBytes',
    'freedBytes',
  ] as const) {
    optionalCount(guard[key], `guard.${key}`);
  }
  // A deficit below zero is a surplus: the model has room to spare.
  if (
    guard.deficitBytes !== null &&
    !Number.isSafeInteger(guard.deficitBytes)
  ) {
    fail(
      'guard.deficitBytes',
      'must be a whole number of bytes',
      guard.deficitBytes,
    );
  }
  if (guard.process !== null)
    optionalCount(guard.process.usedBytes, 'guard.process.usedBytes');
  text(
    JSON.stringify(guard.details),
    'guard.details',
    MESSAGE_LIMITS.detailsChars,
  );
}

function validateHealth(health: HealthEvent): void {
  time(health.atMs, 'health.atMs');
  text(health.message, 'health.message');
  text(
    JSON.stringify(health.details),
    'health.details',
    MESSAGE_LIMITS.detailsChars,
  );
}
