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
import type { GpuProcess, GpuSnapshot, Snapshot } from '../snapshot.ts';

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

/** What makes a process the same one (pid plus its start), and its identity. */
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

function sameStart(known: Known, process: GpuProcess): boolean {
  return (
    known.startedAt === process.startedAt &&
    known.startTimeTicks === (process.startTimeTicks ?? null)
  );
}

/** The identity fields as the process had them (absent extras stay absent). */
function identityFrom(known: Known): ProcessIdentity {
  const identity: ProcessIdentity = {
    name: known.name,
    user: known.user,
    command: known.command,
  };
  fillFrom(identity as GpuProcess, known);
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
 * The collector's side, one per node: identities learned from full
 * entries, in two generations of {@link IDENTITY_GENERATION_MS}. Decoding
 * a message recalls (read only) and stages its full entries; the caller
 * commits them once the message is accepted, or discards them.
 *
 * It also keeps the objects decoded from the node's last accepted entries
 * that left their identity out, so that an entry identical to the one at
 * the same place in the previous snapshot (the steady case: same pid,
 * type, VRAM, state) yields that same object instead of a new one.
 * Snapshots of a node may therefore share process objects, and a GPU's
 * whole process list; they are read-only.
 */
export class IdentityMemory {
  private readonly caches: (GpuCache | undefined)[] = [];
  private readonly headers: (GpuHeader | undefined)[] = [];
  private filledFrom: Known | null = null;
  /** Bumped whenever an identity is learned or forgotten. */
  private version = 0;
  /** Reuse records of the message being decoded, kept on commit. */
  private pending: [number, GpuCache][] = [];
  private building: Building | null = null;
  /** The process lists reusableList may hand out. */
  private readonly steadyLists = new Set<readonly unknown[]>();
  private current = new Map<number, Known>();
  private previous = new Map<number, Known>();
  private generationStartMs: number | null = null;
  private staged: GpuProcess[] = [];

  /** The identity of a process entry that left it out; null if unknown. */
  recall(process: GpuProcess): ProcessIdentity | null {
    const found = this.find(process);
    return found === null ? null : identityFrom(found);
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
   * last accepted snapshot (GPU `gpu`, process `slot`) when the entry,
   * `bytes[start, end)`, has the same bytes now and its identity is still
   * the one filled in then: decoding it again would give an equal object.
   * Null otherwise.
   */
  reusable(
    bytes: Buffer,
    start: number,
    end: number,
    gpu: number,
    slot: number,
  ): GpuProcess | null {
    const cached = this.caches[gpu];
    const process = cached?.processes[slot];
    if (cached === undefined || process === undefined || process === null) {
      return null;
    }
    const from = cached.starts[slot]!;
    if (cached.ends[slot]! - from !== end - start) return null;
    // Entries are a few dozen bytes: a loop beats a native call here.
    const old = cached.bytes;
    for (let i = 0; i < end - start; i += 1) {
      if (old[from + i] !== bytes[start + i]) return null;
    }
    const known = cached.known[slot]!;
    if (cached.version !== this.version && this.find(process) !== known) {
      return null;
    }
    this.filledFrom = known;
    return process;
  }

  /**
   * The process list decoded from the GPU at place `gpu` of the node's
   * last accepted snapshot (the same array) when its
   * process entries, `bytes[start, end)`, are byte for byte the same, all
   * left their identity out, and every identity filled in then is still
   * the one known. Null otherwise.
   */
  reusableList(
    bytes: Buffer,
    start: number,
    end: number,
    gpu: number,
  ): GpuProcess[] | null {
    const cached = this.caches[gpu];
    if (
      cached === undefined ||
      !cached.steady ||
      cached.bytes.length !== end - start ||
      bytes.compare(cached.bytes, 0, cached.bytes.length, start, end) !== 0
    ) {
      return null;
    }
    const processes = cached.processes as GpuProcess[];
    if (cached.version !== this.version) {
      for (let i = 0; i < processes.length; i += 1) {
        if (this.find(processes[i]!) !== cached.known[i]) return null;
      }
    }
    return processes;
  }

  /**
   * True for a list {@link reusableList} returned: its processes come from
   * a message that was accepted, so they passed the range checks then.
   */
  validated(list: readonly GpuProcess[]): boolean {
    return this.steadyLists.has(list);
  }

  /**
   * The index, UUID, name, PCI bus id and total memory decoded last time
   * from the GPU at place `gpu`, when its fields 1-5 are the same bytes
   * `bytes[start, end)` now; null otherwise.
   */
  gpuHeader(
    bytes: Buffer,
    start: number,
    end: number,
    gpu: number,
  ): GpuHeader | null {
    const cached = this.headers[gpu];
    if (
      cached === undefined ||
      cached.bytes.length !== end - start ||
      bytes.compare(cached.bytes, 0, cached.bytes.length, start, end) !== 0
    ) {
      return null;
    }
    return cached;
  }

  /** Keeps what fields 1-5 of the GPU at place `gpu` decoded to. */
  keepGpuHeader(
    bytes: Buffer,
    start: number,
    end: number,
    gpu: number,
    decoded: GpuSnapshot,
  ): void {
    if (gpu >= MAX_REUSED_GPUS) return;
    this.headers[gpu] = {
      bytes: Buffer.from(bytes.subarray(start, end)),
      fields: {
        index: decoded.index,
        uuid: decoded.uuid,
        name: decoded.name,
        pciBusId: decoded.pciBusId,
      },
      totalBytes: decoded.memory.totalBytes,
    };
  }

  /**
   * Starts recording the process entries of the GPU at place `gpu`, which
   * begin at `bytes[start]`, for reuse by the next snapshot.
   */
  beginEntries(bytes: Buffer, start: number, gpu: number): void {
    this.building =
      gpu < MAX_REUSED_GPUS
        ? { bytes, gpu, start, starts: [], ends: [], processes: [], known: [] }
        : null;
  }

  /**
   * Records the entry `bytes[start, end)` just decoded; `steady` when it
   * left its identity out (its object may then be reused).
   */
  addEntry(start: number, end: number, process: GpuProcess, steady: boolean) {
    const b = this.building;
    if (b === null) return;
    if (b.processes.length >= MAX_REUSED_PER_GPU) {
      this.building = null;
      return;
    }
    b.starts.push(start - b.start);
    b.ends.push(end - b.start);
    b.processes.push(steady ? process : null);
    b.known.push(steady ? this.filledFrom : null);
  }

  /**
   * Ends the GPU's entries at `end` (the end of the GPU); what was
   * recorded is kept for reuse once the message is committed.
   */
  endEntries(end: number): void {
    const b = this.building;
    this.building = null;
    if (b === null) return;
    this.pending.push([
      b.gpu,
      {
        bytes: Buffer.from(b.bytes.subarray(b.start, end)),
        starts: b.starts,
        ends: b.ends,
        processes: b.processes,
        known: b.known,
        steady: !b.processes.includes(null),
        version: this.version,
      },
    ]);
  }

  /** Drops the entries being recorded (they do not reach the GPU's end). */
  dropEntries(): void {
    this.building = null;
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

  /**
   * Learns the staged entries of an accepted snapshot taken at `atMs`, and
   * keeps its decoded steady entries for reuse.
   */
  commit(atMs: number): void {
    for (const [gpu, cache] of this.pending) {
      const old = this.caches[gpu];
      if (old?.steady) this.steadyLists.delete(old.processes);
      if (cache.steady) this.steadyLists.add(cache.processes);
      this.caches[gpu] = cache;
    }
    this.pending = [];
    this.rotate(atMs);
    if (this.staged.length > 0) this.version += 1;
    for (const process of this.staged) {
      if (this.current.size >= MAX_IDENTITIES_PER_GENERATION) break;
      this.current.set(process.pid, known(process, atMs));
    }
    this.staged = [];
  }

  /** Drops what the last decode staged (the message was not accepted). */
  discard(): void {
    this.staged = [];
    this.pending = [];
    this.building = null;
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
    this.version += 1;
  }
}

function fillFrom(process: GpuProcess, found: Known): void {
  process.name = found.name;
  process.user = found.user;
  process.command = found.command;
  const target = process as unknown as Record<string, unknown>;
  for (const [field, value] of found.extras) target[field] = value;
}

/**
 * The process entries of one GPU of the last accepted snapshot, as they
 * came, with the objects decoded from those that left identity out.
 */
interface GpuCache {
  bytes: Buffer;
  /** Where each entry's content starts and ends in `bytes`. */
  starts: number[];
  ends: number[];
  /** The decoded object, or null for an entry sent in full. */
  processes: (GpuProcess | null)[];
  /** The identity filled into each, or null when none was known. */
  known: (Known | null)[];
  /** True when every entry left its identity out. */
  steady: boolean;
  /** The memory's version then: while unchanged, so are `known`. */
  version: number;
}

/** What a GPU's unchanging fields 1-5 decoded to, and their bytes. */
export interface GpuHeader {
  bytes: Buffer;
  fields: Pick<GpuSnapshot, 'index' | 'uuid' | 'name' | 'pciBusId'>;
  totalBytes: number | null;
}

/** A GPU's entries being recorded while a message is decoded. */
interface Building {
  bytes: Buffer;
  gpu: number;
  start: number;
  starts: number[];
  ends: number[];
  processes: (GpuProcess | null)[];
  known: (Known | null)[];
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
