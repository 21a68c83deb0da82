/**
 * The collector's fast path for its most frequent message: an
 * `AgentMessage` carrying a `Snapshot`, read from the wire bytes straight
 * into gpuwarden's types in one pass, without protobufjs's intermediate
 * message objects and 64-bit `Long`s (which were most of the decoding time
 * and of the garbage). It yields exactly what `decodeAgentMessage`'s
 * general path yields for the same bytes, or gives up (`null`) whenever
 * the bytes are anything but a well-formed snapshot message: another
 * payload, an unknown enum value, a negative or huge 64-bit value, a
 * truncated or odd encoding. The general path then decodes the bytes and
 * reports problems as it always did.
 */
import type { AgentMessage } from '../messages.ts';
import type {
  GpuSnapshot,
  SampleProblem,
  SampleSource,
  Snapshot,
} from '../snapshot.ts';
import type { StringTable } from './string-table.ts';
import type { IdentityMemory } from './identity-memory.ts';
import { readProcess } from './process-reader.ts';
import type { ReadMemo } from './process-reader.ts';
import { unknownGpu } from '../snapshot.ts';
import { msToIso } from './wire-values.ts';
import {
  enumValue,
  FIXED64,
  LENGTH_DELIMITED,
  NotFast,
  skipOther,
  tag,
  VARINT,
  WireCursor,
} from './wire-reader.ts';

const SOURCES: readonly SampleSource[] = ['nvml', 'nvidia-smi'];
/** Field numbers `AgentMessage` defines. */
const MESSAGE_FIELDS = new Set([1, 2, 3, 10, 11, 12, 13, 14]);

/**
 * Decodes `gpuwarden.v1.AgentMessage` bytes holding a snapshot; null when
 * the bytes are not a well-formed snapshot message (decode them the
 * general way then).
 */
export function readSnapshotMessage(
  bytes: Uint8Array,
  memo: { isoByMs: Map<number, string>; strings: StringTable },
  identities: IdentityMemory | null = null,
): AgentMessage | null {
  if (!Buffer.isBuffer(bytes)) return null;
  try {
    const cursor = new WireCursor(bytes, memo.strings);
    return readMessage(cursor, bytes.length, {
      isoByMs: memo.isoByMs,
      identities,
      steady: false,
    });
  } catch (error) {
    if (error instanceof NotFast) {
      identities?.discard();
      return null;
    }
    throw error;
  }
}

function readMessage(c: WireCursor, end: number, memo: ReadMemo): AgentMessage {
  let node = '';
  let seq = 0;
  let sentAtMs = 0;
  let snapshot: Snapshot | null = null;
  while (c.pos < end) {
    const t = c.uint32(end);
    if (t === tag(1, LENGTH_DELIMITED)) node = c.string(end);
    else if (t === tag(2, VARINT)) seq = c.uint49(end);
    else if (t === tag(3, VARINT)) sentAtMs = c.uint49(end);
    else if (t === tag(11, LENGTH_DELIMITED) && snapshot === null) {
      snapshot = readSnapshot(c, c.delimited(end), memo);
    } else skipOther(c, t, end, MESSAGE_FIELDS.has(t >>> 3));
  }
  if (snapshot === null) throw new NotFast();
  return { node, seq, sentAtMs, payload: { type: 'snapshot', snapshot } };
}

const SNAPSHOT_FIELDS = new Set([1, 2, 3, 4, 5, 6]);

function readSnapshot(c: WireCursor, end: number, memo: ReadMemo): Snapshot {
  let node = '';
  let takenAtMs = 0;
  let source = 0;
  let driverVersion: string | null = null;
  const gpus: GpuSnapshot[] = [];
  const problems: SampleProblem[] = [];
  while (c.pos < end) {
    const t = c.uint32(end);
    if (t === tag(5, LENGTH_DELIMITED)) {
      gpus.push(readGpu(c, c.delimited(end), memo, gpus.length));
    } else if (t === tag(1, LENGTH_DELIMITED)) node = c.string(end);
    else if (t === tag(2, VARINT)) takenAtMs = c.uint49(end);
    else if (t === tag(3, VARINT)) source = c.uint32(end);
    else if (t === tag(4, LENGTH_DELIMITED)) driverVersion = c.string(end);
    else if (t === tag(6, LENGTH_DELIMITED)) {
      problems.push(readProblem(c, c.delimited(end)));
    } else skipOther(c, t, end, SNAPSHOT_FIELDS.has(t >>> 3));
  }
  return {
    node,
    takenAt: msToIso(takenAtMs, 'takenAt'),
    source: enumValue(SOURCES, source),
    driverVersion,
    gpus,
    problems,
  };
}

function readProblem(c: WireCursor, end: number): SampleProblem {
  let gpuUuid: string | null = null;
  let kind = '';
  let message = '';
  while (c.pos < end) {
    const t = c.uint32(end);
    if (t === tag(1, LENGTH_DELIMITED)) gpuUuid = c.string(end);
    else if (t === tag(2, LENGTH_DELIMITED)) kind = c.string(end);
    else if (t === tag(3, LENGTH_DELIMITED)) message = c.string(end);
    else skipOther(c, t, end, t >>> 3 <= 3);
  }
  const problem: SampleProblem = { kind, message };
  if (gpuUuid !== null) problem.gpuUuid = gpuUuid;
  return problem;
}

/**
 * Reads one GPU. Its process entries come last; when they are, byte for
 * byte, those of the GPU at the same place in the node's last snapshot
 * and all left their identity out, the objects decoded then are taken
 * again (`IdentityMemory.reusableList`).
 */
function readGpu(
  c: WireCursor,
  end: number,
  memo: ReadMemo,
  place: number,
): GpuSnapshot {
  const gpu = unknownGpu(0, '');
  const identities = memo.identities;
  const start = c.pos;
  const headerEnd = identities === null ? start : staticFieldsEnd(c, end);
  if (headerEnd > start) {
    const header = identities!.gpuHeader(c.buf, start, headerEnd, place);
    if (header === null) {
      while (c.pos < headerEnd) readGpuField(c, c.uint32(end), end, gpu);
      identities!.keepGpuHeader(c.buf, start, headerEnd, place, gpu);
    } else {
      Object.assign(gpu, header.fields);
      gpu.memory.totalBytes = header.totalBytes;
      c.pos = headerEnd;
    }
  }
  let region = -1;
  while (c.pos < end) {
    const t = c.uint32(end);
    if (t !== tag(14, LENGTH_DELIMITED)) {
      // Entries followed by other fields are not kept for reuse.
      if (region >= 0) identities?.dropEntries();
      readGpuField(c, t, end, gpu);
      continue;
    }
    if (region < 0) {
      region = c.pos - 1;
      const same = identities?.reusableList(c.buf, region, end, place);
      if (same) {
        gpu.processes = same;
        c.pos = end;
        return gpu;
      }
      identities?.beginEntries(c.buf, region, place);
    }
    const entryEnd = c.delimited(end);
    const entryStart = c.pos;
    const slot = gpu.processes.length;
    const process = readProcess(c, entryEnd, memo, place, slot);
    identities?.addEntry(entryStart, entryEnd, process, memo.steady);
    gpu.processes.push(process);
  }
  if (region >= 0) identities?.endEntries(end);
  return gpu;
}

/**
 * Where a GPU's fields 1-5 (index, UUID, name, PCI bus id, total memory:
 * what does not change from one snapshot to the next) end, when they come
 * first, each once, in order; the cursor is left where it was.
 */
function staticFieldsEnd(c: WireCursor, end: number): number {
  const start = c.pos;
  let last = 0;
  try {
    while (c.pos < end) {
      const at = c.pos;
      const t = c.uint32(end);
      const field = t >>> 3;
      if (field > 5 || field <= last) {
        c.pos = at;
        break;
      }
      last = field;
      c.skip(t, end);
    }
    return c.pos;
  } finally {
    c.pos = start;
  }
}

function readGpuField(
  c: WireCursor,
  t: number,
  end: number,
  gpu: GpuSnapshot,
): void {
  switch (t) {
    case tag(1, VARINT):
      gpu.index = c.uint32(end);
      return;
    case tag(2, LENGTH_DELIMITED):
      gpu.uuid = c.string(end);
      return;
    case tag(3, LENGTH_DELIMITED):
      gpu.name = c.string(end);
      return;
    case tag(4, LENGTH_DELIMITED):
      gpu.pciBusId = c.string(end);
      return;
    case tag(5, VARINT):
      gpu.memory.totalBytes = c.uint49(end);
      return;
    case tag(6, VARINT):
      gpu.memory.usedBytes = c.uint49(end);
      return;
    case tag(7, VARINT):
      gpu.memory.freeBytes = c.uint49(end);
      return;
    case tag(8, VARINT):
      gpu.memory.reservedBytes = c.uint49(end);
      return;
    case tag(9, FIXED64):
      gpu.utilizationPercent.gpu = c.double(end);
      return;
    case tag(10, FIXED64):
      gpu.utilizationPercent.memory = c.double(end);
      return;
    case tag(11, FIXED64):
      gpu.temperatureC = c.double(end);
      return;
    case tag(12, FIXED64):
      gpu.powerWatts = c.double(end);
      return;
    case tag(13, VARINT):
      gpu.migEnabled = c.bool(end);
      return;
    default:
      skipOther(c, t, end, t >>> 3 <= 14);
  }
}
