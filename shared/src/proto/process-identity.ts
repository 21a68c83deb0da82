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
 * after each stream (re)open. The collector keeps what it learned for two
 * to four refresh periods, so its memory stays bounded. When it has no
 * identity for an entry (it restarted, or the message with the full entry
 * was thinned away or rejected), those fields stay unknown (null) until
 * the next full entry, at most one refresh period later.
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

/** The extras of an identity (`uid`, `exe`, …) that are present. */
type PresentExtras = readonly (readonly [IdentityField, unknown])[];

/** What makes a process the same one: pid plus its start. */
interface Known {
  startedAt: string | null;
  startTimeTicks: number | null;
  identity: ProcessIdentity;
  /** The optional fields of `identity` that are present, for filling in. */
  extras: PresentExtras;
  /** Snapshot time of the full entry, ms. */
  sentAtMs: number;
}

function known(process: GpuProcess, atMs: number): Known {
  const identity = identityOf(process);
  return {
    startedAt: process.startedAt,
    startTimeTicks: process.startTimeTicks ?? null,
    identity,
    extras: IDENTITY_EXTRAS.flatMap((field) =>
      identity[field] === undefined ? [] : [[field, identity[field]] as const],
    ),
    sentAtMs: atMs,
  };
}

const IDENTITY_EXTRAS = IDENTITY_FIELDS.filter(
  (field) => field !== 'name' && field !== 'user' && field !== 'command',
);

/** True when a process carries a start to tell a reused pid apart. */
export function hasStart(process: GpuProcess): boolean {
  return (
    process.startedAt !== null || (process.startTimeTicks ?? null) !== null
  );
}

function sameStart(known: Known, process: GpuProcess): boolean {
  return (
    known.startedAt === process.startedAt &&
    known.startTimeTicks === (process.startTimeTicks ?? null)
  );
}

/** The identity fields of a process (absent extras stay absent). */
export function identityOf(process: GpuProcess): ProcessIdentity {
  const identity: ProcessIdentity = {
    name: process.name,
    user: process.user,
    command: process.command,
  };
  for (const field of IDENTITY_FIELDS) {
    if (process[field] !== undefined) {
      (identity as Record<string, unknown>)[field] = process[field];
    }
  }
  return identity;
}

function sameIdentity(a: ProcessIdentity, b: GpuProcess): boolean {
  return IDENTITY_FIELDS.every(
    (field) => (a[field] ?? null) === (b[field] ?? null),
  );
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
          sameIdentity(last.identity, process) &&
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
 * The collector's side, one per node: identities learned from full
 * entries, in two generations of {@link IDENTITY_GENERATION_MS}. Decoding
 * a message recalls (read only) and stages its full entries; the caller
 * commits them once the message is accepted, or discards them.
 *
 * It also keeps the objects decoded from the node's last entries that left
 * their identity out, so that an entry identical to the one at the same
 * place in the previous snapshot (the steady case: same pid, type, VRAM,
 * state) yields that same object instead of a new one. Snapshots of a
 * node may therefore share process objects; they are read-only.
 */
export class IdentityMemory {
  private readonly entries: (CachedEntry | undefined)[][] = [];
  private filledFrom: Known | null = null;
  private current = new Map<number, Known>();
  private previous = new Map<number, Known>();
  private generationStartMs: number | null = null;
  private staged: GpuProcess[] = [];

  /** The identity of a process entry that left it out; null if unknown. */
  recall(process: GpuProcess): ProcessIdentity | null {
    return this.find(process)?.identity ?? null;
  }

  /**
   * Fills in the identity of a process entry that left it out (name, user
   * and command stay null, extras absent, when it is not known).
   */
  fill(process: GpuProcess): void {
    const found = this.find(process);
    if (found !== null) fillFrom(process, found);
    this.filledFrom = found;
  }

  /**
   * The process object decoded from the entry at this place of the node's
   * last snapshot (GPU `gpu`, process `slot`) when the entry now has the
   * same bytes and its identity is still the one filled in then: decoding
   * it again would give an equal object. Null otherwise.
   */
  reusable(
    bytes: Buffer,
    start: number,
    end: number,
    gpu: number,
    slot: number,
  ): GpuProcess | null {
    const cached = this.entries[gpu]?.[slot];
    if (cached === undefined || cached.bytes.length !== end - start) {
      return null;
    }
    const old = cached.bytes;
    for (let i = 0; i < old.length; i += 1) {
      if (old[i] !== bytes[start + i]) return null;
    }
    return this.find(cached.process) === cached.known ? cached.process : null;
  }

  /**
   * Keeps a process just decoded by {@link fill} from `bytes[start, end)`
   * for {@link reusable}.
   */
  remember(
    bytes: Buffer,
    start: number,
    end: number,
    gpu: number,
    slot: number,
    process: GpuProcess,
  ): void {
    if (gpu >= MAX_REUSED_GPUS || slot >= MAX_REUSED_PER_GPU) return;
    const row = (this.entries[gpu] ??= []);
    row[slot] = {
      bytes: Buffer.from(bytes.subarray(start, end)),
      process,
      known: this.filledFrom,
    };
  }

  private find(process: GpuProcess): Known | null {
    const found =
      this.current.get(process.pid) ?? this.previous.get(process.pid);
    return found !== undefined && sameStart(found, process) ? found : null;
  }

  /** A full entry just decoded; learned when the message is committed. */
  stage(process: GpuProcess): void {
    if (hasStart(process)) this.staged.push(process);
  }

  /** Learns the staged entries of an accepted snapshot taken at `atMs`. */
  commit(atMs: number): void {
    this.rotate(atMs);
    for (const process of this.staged) {
      if (this.current.size >= MAX_IDENTITIES_PER_GENERATION) break;
      this.current.set(process.pid, known(process, atMs));
    }
    this.staged = [];
  }

  /** Drops what the last decode staged (the message was not accepted). */
  discard(): void {
    this.staged = [];
  }

  /** Identities held, both generations (for tests and status). */
  get size(): number {
    return this.current.size + this.previous.size;
  }

  private rotate(atMs: number): void {
    const start = this.generationStartMs;
    if (start !== null && Math.abs(atMs - start) < IDENTITY_GENERATION_MS) {
      return;
    }
    this.previous = start === null ? new Map() : this.current;
    this.current = new Map();
    this.generationStartMs = atMs;
  }
}

function fillFrom(process: GpuProcess, found: Known): void {
  process.name = found.identity.name;
  process.user = found.identity.user;
  process.command = found.identity.command;
  const target = process as unknown as Record<string, unknown>;
  for (const [field, value] of found.extras) target[field] = value;
}

/** A decoded entry that left its identity out, kept for reuse. */
interface CachedEntry {
  bytes: Buffer;
  process: GpuProcess;
  /** The identity filled in, or null when none was known. */
  known: Known | null;
}

/** Places of a snapshot whose entries are kept for reuse. */
const MAX_REUSED_GPUS = 64;
const MAX_REUSED_PER_GPU = 1024;

/** The collector's identity memories, one per node. */
export class NodeIdentities {
  private readonly byNode = new Map<string, IdentityMemory>();

  /** The memory of `node`, created empty on first use. */
  of(node: string): IdentityMemory {
    let memory = this.byNode.get(node);
    if (memory === undefined) {
      memory = new IdentityMemory();
      this.byNode.set(node, memory);
    }
    return memory;
  }
}
