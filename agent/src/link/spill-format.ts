/**
 * Outbox spill records (pure). A spill segment is a run of
 *
 *     u32 bodyLength | u32 crc32(body) | body            (big-endian)
 *     body = u32 seqHigh | u32 seqLow | u8 kind | f64 atMs | message
 *
 * where `message` is the `gpuwarden.v1.AgentMessage` bytes sent as they
 * are, `kind` indexes {@link SPILL_KINDS} and `atMs` is the snapshot time
 * used for thinning. A torn or corrupt record ends the readable part.
 */
import { crc32 } from 'node:zlib';

/** Payload kinds by their code in a record. */
export const SPILL_KINDS = ['hello', 'snapshot', 'sli', 'guard', 'health'];

/** One spilled message. */
export interface SpillRecord {
  seq: number;
  kind: string;
  atMs: number;
  bytes: Buffer;
}

const HEADER_BYTES = 8;
const META_BYTES = 17;
const TWO_POW_32 = 4294967296;

/** Encodes one record. */
export function encodeSpillRecord(record: SpillRecord): Buffer {
  const out = Buffer.allocUnsafe(
    HEADER_BYTES + META_BYTES + record.bytes.length,
  );
  out.writeUInt32BE(META_BYTES + record.bytes.length, 0);
  out.writeUInt32BE(Math.floor(record.seq / TWO_POW_32), 8);
  out.writeUInt32BE(record.seq >>> 0, 12);
  out.writeUInt8(Math.max(0, SPILL_KINDS.indexOf(record.kind)), 16);
  out.writeDoubleBE(record.atMs, 17);
  record.bytes.copy(out, HEADER_BYTES + META_BYTES);
  out.writeUInt32BE(crc32(out.subarray(HEADER_BYTES)), 4);
  return out;
}

/** Parses a segment up to its first torn or corrupt record. */
export function parseSpillSegment(bytes: Buffer): {
  records: SpillRecord[];
  validBytes: number;
} {
  const records: SpillRecord[] = [];
  let at = 0;
  while (bytes.length - at >= HEADER_BYTES) {
    const bodyLength = bytes.readUInt32BE(at);
    const end = at + HEADER_BYTES + bodyLength;
    if (bodyLength < META_BYTES || end > bytes.length) break;
    const body = bytes.subarray(at + HEADER_BYTES, end);
    if (crc32(body) !== bytes.readUInt32BE(at + 4)) break;
    records.push({
      seq: body.readUInt32BE(0) * TWO_POW_32 + body.readUInt32BE(4),
      kind: SPILL_KINDS[body[8]!] ?? 'snapshot',
      atMs: body.readDoubleBE(9),
      bytes: Buffer.from(body.subarray(META_BYTES)),
    });
    at = end;
  }
  return { records, validBytes: at };
}
