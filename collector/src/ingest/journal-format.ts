/**
 * The ingest journal's record format (pure). Each record is
 *
 *     u32 bodyLength | u32 crc32(body) | body          (big-endian)
 *     body = u8 kind | u8 nodeLength | node (UTF-8) | u32 seqHigh
 *            | u32 seqLow | payload
 *
 * Kind 1 is a message: payload is the `gpuwarden.v1.AgentMessage` bytes as
 * the agent sent them. Kind 2 marks that the node's messages up to `seq`
 * were applied to the sink; it has no payload. A record whose length runs
 * past the end of the file or whose CRC differs ends the readable part: it
 * is the tail of a write a crash cut short, never acknowledged.
 */
import { crc32 } from 'node:zlib';

/** Record kinds. */
export const RECORD_MESSAGE = 1;
export const RECORD_APPLIED = 2;

/** One decoded record. */
export interface JournalRecord {
  kind: typeof RECORD_MESSAGE | typeof RECORD_APPLIED;
  node: string;
  seq: number;
  /** Message bytes for kind 1; empty for kind 2. */
  payload: Buffer;
}

const HEADER_BYTES = 8;
const TWO_POW_32 = 4294967296;

/** Encodes one record. */
export function encodeRecord(record: JournalRecord): Buffer {
  return encodeRecords([record]);
}

/** Encodes records back to back into one new buffer. */
export function encodeRecords(records: readonly JournalRecord[]): Buffer {
  const buffer = new RecordBuffer(0);
  for (const record of records) buffer.add(record);
  return Buffer.from(buffer.bytes());
}

/** Smallest size a record buffer starts at or shrinks to. */
const MIN_BUFFER_BYTES = 64 * 1024;

/**
 * Records encoded back to back into one buffer that grows as needed and
 * is used again once written, so a payload is copied here the moment it
 * is accepted and the buffer it came in can be freed at once. Also keeps
 * the highest seq per node of each kind, for the journal's bookkeeping.
 *
 * The buffer keeps its size while groups keep coming that big (growing
 * it again for every group would allocate as much as is written), and
 * shrinks once groups have been much smaller for a while.
 */
export class RecordBuffer {
  private buf: Buffer;
  private length = 0;
  /** Bytes of recent groups, decaying: what the buffer should hold. */
  private recentBytes = 0;
  /** Highest message seq per node among the records. */
  readonly messageSeqs = new Map<string, number>();
  /** Highest "applied" seq per node among the records. */
  readonly appliedSeqs = new Map<string, number>();

  /** `initialBytes`: 0 for records written once (it grows as needed). */
  constructor(initialBytes = MIN_BUFFER_BYTES) {
    this.buf = Buffer.allocUnsafeSlow(initialBytes);
  }

  /** Number of bytes held. */
  get size(): number {
    return this.length;
  }

  /** Bytes the buffer takes, held or not. */
  get capacity(): number {
    return this.buf.length;
  }

  /** Appends one record (its payload is copied). */
  add(record: JournalRecord): void {
    const needed = headerBytes(record.node) + record.payload.length;
    this.reserve(needed);
    const at = this.length;
    const end = writeHeader(this.buf, at, record);
    this.length = end + record.payload.copy(this.buf, end);
    const seqs =
      record.kind === RECORD_MESSAGE ? this.messageSeqs : this.appliedSeqs;
    if (record.seq > (seqs.get(record.node) ?? 0)) {
      seqs.set(record.node, record.seq);
    }
  }

  /** The records' bytes (a view, valid until the next add or clear). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** Removes the records of `nodes` (rarely needed: it parses them all). */
  dropNodes(nodes: ReadonlySet<string>): void {
    const { records } = parseSegment(Buffer.from(this.bytes()));
    this.length = 0;
    this.messageSeqs.clear();
    this.appliedSeqs.clear();
    for (const record of records) {
      if (!nodes.has(record.node)) this.add(record);
    }
  }

  /** Empties it for use again. */
  clear(): void {
    this.recentBytes = Math.max(this.length, this.recentBytes * 0.9);
    this.length = 0;
    this.messageSeqs.clear();
    this.appliedSeqs.clear();
    const fits = Math.max(MIN_BUFFER_BYTES, 2 * this.recentBytes);
    if (this.buf.length > 2 * fits) {
      this.buf = Buffer.allocUnsafeSlow(Math.ceil(fits));
    }
  }

  private reserve(needed: number): void {
    if (this.length + needed <= this.buf.length) return;
    const grown = Buffer.allocUnsafeSlow(
      Math.max(this.length + needed, this.buf.length * 2),
    );
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }
}

function headerBytes(node: string): number {
  return HEADER_BYTES + 2 + Buffer.byteLength(node, 'utf8') + 8;
}

/**
 * Writes one record's header at `at` (the payload follows it); returns
 * where the header ends. The CRC covers the body as the format says:
 * header fields and payload.
 */
function writeHeader(out: Buffer, at: number, record: JournalRecord): number {
  const bodyAt = at + HEADER_BYTES;
  const nodeLength = out.write(record.node, bodyAt + 2, 'utf8');
  const seqAt = bodyAt + 2 + nodeLength;
  const end = seqAt + 8;
  out.writeUInt32BE(end - bodyAt + record.payload.length, at);
  out.writeUInt8(record.kind, bodyAt);
  out.writeUInt8(nodeLength, bodyAt + 1);
  out.writeUInt32BE(Math.floor(record.seq / TWO_POW_32), seqAt);
  out.writeUInt32BE(record.seq >>> 0, seqAt + 4);
  const crc = crc32(record.payload, crc32(out.subarray(bodyAt, end)));
  out.writeUInt32BE(crc, at + 4);
  return end;
}

/** Records of a segment and where its readable part ends. */
export interface ParsedSegment {
  records: JournalRecord[];
  /** Bytes from the start that hold whole, valid records. */
  validBytes: number;
  /** Why reading stopped before the end; null when it read everything. */
  stopReason: string | null;
}

/** Parses a segment's bytes up to the first torn or corrupt record. */
export function parseSegment(bytes: Buffer): ParsedSegment {
  const records: JournalRecord[] = [];
  let at = 0;
  while (at < bytes.length) {
    const problem = recordProblem(bytes, at);
    if (problem !== null)
      return { records, validBytes: at, stopReason: problem };
    const bodyLength = bytes.readUInt32BE(at);
    records.push(
      decodeBody(
        bytes.subarray(at + HEADER_BYTES, at + HEADER_BYTES + bodyLength),
      ),
    );
    at += HEADER_BYTES + bodyLength;
  }
  return { records, validBytes: at, stopReason: null };
}

function recordProblem(bytes: Buffer, at: number): string | null {
  if (bytes.length - at < HEADER_BYTES) return 'torn record header';
  const bodyLength = bytes.readUInt32BE(at);
  const end = at + HEADER_BYTES + bodyLength;
  if (bodyLength < 10 || end > bytes.length) return 'torn record';
  const body = bytes.subarray(at + HEADER_BYTES, end);
  if (crc32(body) !== bytes.readUInt32BE(at + 4)) return 'checksum mismatch';
  const kind = body[0];
  if (kind !== RECORD_MESSAGE && kind !== RECORD_APPLIED)
    return 'unknown record kind';
  if (2 + body[1]! + 8 > body.length) return 'bad node length';
  return null;
}

function decodeBody(body: Buffer): JournalRecord {
  const nodeLength = body[1]!;
  const seqAt = 2 + nodeLength;
  return {
    kind: body[0] as JournalRecord['kind'],
    node: body.toString('utf8', 2, seqAt),
    seq: body.readUInt32BE(seqAt) * TWO_POW_32 + body.readUInt32BE(seqAt + 4),
    payload: body.subarray(seqAt + 8),
  };
}
