/**
 * Process identities sent once, not every second (pure).
 *
 * A process's name, user, command line, cgroup and the like are most of a
 * snapshot's bytes and rarely change, yet a snapshot goes out every
 * second. So the agent sends a process entry with those fields only when
 * the collector has not had them from it lately, and marks the other
 * entries `identity_as_before`; the collector fills them in from the last
 * full entry of the same process. A process is the same one when pid,
 * start time and start ticks match, so a reused pid never inherits another
 * process's name.
 *
 * The agent sends an identity in full again whenever it changed, at least
 * every {@link IDENTITY_REFRESH_MS} of snapshot time, and for every process
 * after each stream (re)open. The collector (`identity-memory.ts`) keeps
 * what it learned for two to four refresh periods, so its memory stays
 * bounded. When it has no identity for an entry (it restarted, or the
 * message with the full entry was thinned away or rejected), those fields
 * stay unknown (null) until the next full entry, at most one refresh
 * period later.
 *
 * This module holds the agent's side and what both sides share.
 */
import type { GpuProcess, Snapshot } from '../snapshot.ts';

/** The fields an entry marked `identity_as_before` leaves out. */
export const IDENTITY_FIELDS = [
  'name',
  'user',
  'command',
  'uid',
  'exe',
  'unit',
  'cgroup',
  'container',
  'ppid',
  'oomScoreAdj',
  'resolved',
  'protected',
] as const;

/** One of {@link IDENTITY_FIELDS}. */
export type IdentityField = (typeof IDENTITY_FIELDS)[number];

/** The identity fields of a process, as its last full entry gave them. */
export type ProcessIdentity = Pick<GpuProcess, IdentityField>;

/** Longest snapshot time between two full entries of one process, ms. */
export const IDENTITY_REFRESH_MS = 60_000;

/** How long the collector keeps one generation of identities, ms. */
export const IDENTITY_GENERATION_MS = 2 * IDENTITY_REFRESH_MS;

/** Most identities the collector keeps per node and generation. */
export const MAX_IDENTITIES_PER_GENERATION = 65_536;

/**
 * What the agent sent of a process in full: its start (pid plus start
 * tell it apart), a copy of its identity, and when it was sent.
 */
interface Known {
  startedAt: string | null;
  startTimeTicks: number | null;
  name: string | null;
  user: string | null;
  command: string | null;
  /** The other identity fields that are present, for filling in. */
  extras: [IdentityField, unknown][];
  /** Snapshot time of the full entry, ms. */
  sentAtMs: number;
}

const IDENTITY_EXTRAS = IDENTITY_FIELDS.filter(
  (field) => field !== 'name' && field !== 'user' && field !== 'command',
);

function known(process: GpuProcess, atMs: number): Known {
  const source = process as unknown as Record<string, unknown>;
  const extras: [IdentityField, unknown][] = [];
  for (const field of IDENTITY_EXTRAS) {
    const value = source[field];
    if (value !== undefined) extras.push([field, value]);
  }
  return {
    startedAt: process.startedAt,
    startTimeTicks: process.startTimeTicks ?? null,
    name: process.name,
    user: process.user,
    command: process.command,
    extras,
    sentAtMs: atMs,
  };
}

/** True when a process carries a start to tell a reused pid apart. */
export function hasStart(process: GpuProcess): boolean {
  return (
    process.startedAt !== null || (process.startTimeTicks ?? null) !== null
  );
}

/** What tells a process from another one that reused its pid. */
type Start = Pick<GpuProcess, 'startedAt' | 'startTimeTicks'>;

/** True when both started at the same moment (same process). */
export function sameStart(a: Start, b: Start): boolean {
  return (
    a.startedAt === b.startedAt &&
    (a.startTimeTicks ?? null) === (b.startTimeTicks ?? null)
  );
}

/** The identity fields of a full entry (absent extras stay absent). */
export function identityOf(full: GpuProcess): ProcessIdentity {
  const identity: ProcessIdentity = {
    name: full.name,
    user: full.user,
    command: full.command,
  };
  fillIdentity(identity as GpuProcess, full);
  return identity;
}

/** True when `process` has the identity `known` holds (null = absent). */
function sameIdentity(known: Known, process: GpuProcess): boolean {
  if (
    known.name !== process.name ||
    known.user !== process.user ||
    known.command !== process.command
  ) {
    return false;
  }
  const source = process as unknown as Record<string, unknown>;
  return IDENTITY_EXTRAS.every((field) => {
    const held = known.extras.find(([f]) => f === field)?.[1];
    return (held ?? null) === (source[field] ?? null);
  });
}

/**
 * The agent's side: decides which entries of each snapshot may leave
 * their identity out. One per link; snapshots must come in seq order.
 */
export class IdentityElider {
  private sent = new Map<number, Known>();

  /** Forgets everything, so the next snapshot carries every identity. */
  reset(): void {
    this.sent = new Map();
  }

  /**
   * The processes of `snapshot` whose identity the collector already has
   * from an earlier snapshot; the others are remembered as sent in full.
   * Pids absent from the snapshot are forgotten.
   */
  elide(snapshot: Snapshot): Set<GpuProcess> {
    const atMs = Date.parse(snapshot.takenAt);
    const omit = new Set<GpuProcess>();
    const next = new Map<number, Known>();
    for (const gpu of snapshot.gpus) {
      for (const process of gpu.processes) {
        if (!hasStart(process)) continue;
        const last = this.sent.get(process.pid);
        const fresh =
          last !== undefined &&
          sameStart(last, process) &&
          sameIdentity(last, process) &&
          atMs >= last.sentAtMs &&
          atMs - last.sentAtMs < IDENTITY_REFRESH_MS;
        if (fresh) {
          omit.add(process);
          next.set(process.pid, last);
        } else next.set(process.pid, known(process, atMs));
      }
    }
    this.sent = next;
    return omit;
  }
}

/**
 * Sets the identity fields of the full entry `full` on `process`: name,
 * user and command always, the others where `full` has them.
 */
export function fillIdentity(process: GpuProcess, full: GpuProcess): void {
  process.name = full.name;
  process.user = full.user;
  process.command = full.command;
  const source = full as unknown as Record<string, unknown>;
  const target = process as unknown as Record<string, unknown>;
  for (const field of IDENTITY_EXTRAS) {
    const value = source[field];
    if (value !== undefined) target[field] = value;
  }
}
