/**
 * The fast path's reader of one `GpuProcess` entry (`snapshot-reader.ts`):
 * fields straight into a {@link GpuProcess}, the identity filled in from
 * the node's memory when the entry left it out, and the object decoded
 * last time taken again when the entry has not changed.
 */
import type { GpuProcess, GpuProcessType } from '../snapshot.ts';
import type { IdentityMemory } from './identity-memory.ts';
import { hasStart } from './process-identity.ts';
import { msToIsoMemo } from './wire-values.ts';
import {
  enumValue,
  LENGTH_DELIMITED,
  NotFast,
  skipOther,
  tag,
  VARINT,
} from './wire-reader.ts';
import type { WireCursor } from './wire-reader.ts';

/** What decoding a message reads besides its bytes. */
export interface ReadMemo {
  isoByMs: Map<number, string>;
  identities: IdentityMemory | null;
  /** Whether the process entry read last left its identity out. */
  steady: boolean;
}

const PROCESS_TYPES: readonly GpuProcessType[] = [
  'compute',
  'graphics',
  'compute+graphics',
];

/** Process fields that are extras, copied in the order they arrive. */
type Extras = Record<string, string | number | boolean>;

/** Reads the process entry that ends at `end`. */
export function readProcess(
  c: WireCursor,
  end: number,
  memo: ReadMemo,
  gpuPlace: number,
  slot: number,
): GpuProcess {
  const identities = memo.identities;
  const same = identities?.reusable(c.buf, c.pos, end, gpuPlace, slot);
  memo.steady = same !== null && same !== undefined;
  if (same) {
    c.pos = end;
    return same;
  }
  const process: GpuProcess = {
    pid: 0,
    name: null,
    type: 'compute',
    usedBytes: null,
    user: null,
    command: null,
    startedAt: null,
  };
  let type = 0;
  let startedAtMs: number | null = null;
  let asBefore = false;
  let identityFields = 0;
  while (c.pos < end) {
    const t = c.uint32(end);
    if (t === tag(3, VARINT)) type = c.uint32(end);
    else if (t === tag(7, VARINT)) startedAtMs = c.uint49(end);
    else if (t === tag(21, VARINT)) asBefore = c.bool(end);
    else if (readProcessField(c, t, end, process)) identityFields += 1;
  }
  process.type = enumValue(PROCESS_TYPES, type);
  if (startedAtMs !== null) {
    process.startedAt = msToIsoMemo(startedAtMs, 'startedAt', memo.isoByMs);
  }
  if (!asBefore) memo.identities?.stage(process);
  // A malformed entry (identity fields present, or no start to match on)
  // is left to the general path, which reports it.
  else if (identityFields > 0 || !hasStart(process)) throw new NotFast();
  else if (identities !== null) {
    identities.fill(process);
    memo.steady = true;
  }
  return process;
}

/** Reads one process field; true when it is an identity field. */
function readProcessField(
  c: WireCursor,
  t: number,
  end: number,
  process: GpuProcess,
): boolean {
  const extras = process as unknown as Extras;
  switch (t) {
    case tag(1, VARINT):
      process.pid = c.uint32(end);
      return false;
    case tag(2, LENGTH_DELIMITED):
      process.name = c.string(end);
      return true;
    case tag(4, VARINT):
      process.usedBytes = c.uint49(end);
      return false;
    case tag(5, LENGTH_DELIMITED):
      process.user = c.string(end);
      return true;
    case tag(6, LENGTH_DELIMITED):
      process.command = c.string(end);
      return true;
    case tag(10, VARINT):
      extras.uid = c.uint32(end);
      return true;
    case tag(11, VARINT):
      extras.ppid = c.uint32(end);
      return true;
    case tag(16, VARINT):
      extras.startTimeTicks = c.uint49(end);
      return false;
    case tag(18, VARINT):
      extras.oomScoreAdj = c.sint32(end);
      return true;
    case tag(19, VARINT):
      extras.resolved = c.bool(end);
      return true;
    case tag(20, VARINT):
      extras.protected = c.bool(end);
      return true;
    default:
      return readProcessText(c, t, end, extras);
  }
}

/** The optional text extras, by field number. */
const TEXT_EXTRAS = new Map([
  [12, 'unit'],
  [13, 'cgroup'],
  [14, 'container'],
  [15, 'state'],
  [17, 'exe'],
]);

/** The text extras that are identity fields. */
const TEXT_IDENTITY = new Set(['unit', 'cgroup', 'container', 'exe']);

function readProcessText(
  c: WireCursor,
  t: number,
  end: number,
  x: Extras,
): boolean {
  const key = TEXT_EXTRAS.get(t >>> 3);
  if (key === undefined || (t & 7) !== LENGTH_DELIMITED) {
    skipOther(c, t, end, t >>> 3 <= 21);
    return false;
  }
  x[key] = c.string(end);
  return TEXT_IDENTITY.has(key);
}
