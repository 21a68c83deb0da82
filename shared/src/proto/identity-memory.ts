/**
 * The collector's memory of each node's process identities and of what it
 * decoded from the node's last snapshot (pure; see `process-identity.ts`
 * for the protocol).
 */
import type { GpuProcess, GpuSnapshot } from '../snapshot.ts';
import {
  fillIdentity,
  hasStart,
  IDENTITY_GENERATION_MS,
  identityOf,
  MAX_IDENTITIES_PER_GENERATION,
  sameStart,
} from './process-identity.ts';
import type { ProcessIdentity } from './process-identity.ts';

/**
 * The collector's side, one per node: the full entries it decoded (the
 * objects themselves, read-only), by pid, in two generations of
 * {@link IDENTITY_GENERATION_MS}. Decoding
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
  private filledFrom: GpuProcess | null = null;
  /** Bumped whenever an identity is learned or forgotten. */
  private version = 0;
  /** Reuse records of the message being decoded, kept on commit. */
  private pending: [number, GpuCache][] = [];
  private building: Building | null = null;
  /** The process lists reusableList may hand out. */
  private readonly steadyLists = new Set<readonly unknown[]>();
  private current = new Map<number, GpuProcess>();
  private previous = new Map<number, GpuProcess>();
  private generationStartMs: number | null = null;
  private staged: GpuProcess[] = [];

  /** The identity of a process entry that left it out; null if unknown. */
  recall(process: GpuProcess): ProcessIdentity | null {
    const found = this.find(process);
    return found === null ? null : identityOf(found);
  }

  /**
   * Fills in the identity of a process entry that left it out (name, user
   * and command stay null, extras absent, when it is not known).
   */
  fill(process: GpuProcess): void {
    const found = this.find(process);
    if (found !== null) fillIdentity(process, found);
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

  private find(process: GpuProcess): GpuProcess | null {
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
      this.current.set(process.pid, process);
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
  /** The full entry each was filled from, or null when none was known. */
  known: (GpuProcess | null)[];
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
  known: (GpuProcess | null)[];
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
