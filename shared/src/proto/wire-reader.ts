/**
 * A strict protobuf wire reader for the collector's fast decoding path
 * (`snapshot-reader.ts`). It reads only the encodings a well-formed
 * gpuwarden message uses and gives up ({@link NotFast}) at anything else:
 * a truncated field, a field crossing the end of its message, a varint
 * longer than the field's type needs, a group. Giving up is not an error;
 * the caller then decodes the same bytes the general way, which produces
 * the exact problem (or value) it always did.
 */
import type { StringTable } from './string-table.ts';

/** Thrown when bytes leave the fast path; never escapes the fast decoder. */
export class NotFast extends Error {
  constructor() {
    super('not on the fast decoding path');
    this.name = 'NotFast';
  }
}

/** Wire types. */
export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH_DELIMITED = 2;
export const FIXED32 = 5;

/** A read position in a buffer. */
export class WireCursor {
  pos = 0;

  constructor(
    readonly buf: Buffer,
    private readonly strings: StringTable,
  ) {}

  /**
   * A varint below 2^32 in at most 5 bytes (uint32, tags, lengths, enums),
   * read the way protobufjs reads uint32.
   */
  uint32(end: number): number {
    const buf = this.buf;
    const pos = this.pos;
    if (pos < end && buf[pos]! < 0x80) {
      this.pos = pos + 1;
      return buf[pos]!;
    }
    return this.varint(end, 5);
  }

  /**
   * A non-negative 64-bit varint of at most 7 bytes (below 2^49: years
   * ahead in ms, 512 TiB in bytes), exact as a number. Longer encodings
   * (negative or huge values) leave the fast path.
   */
  uint49(end: number): number {
    return this.varint(end, 7);
  }

  /**
   * A varint of at most `maxBytes` bytes (5: below 2^32; 7: below 2^49),
   * as an exact number; gives up on a longer one or at `end`.
   */
  private varint(end: number, maxBytes: number): number {
    const buf = this.buf;
    const limit = Math.min(end, this.pos + maxBytes);
    let value = 0;
    let scale = 1;
    for (let at = this.pos; at < limit; at += 1) {
      const byte = buf[at]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (maxBytes === 5 && value > 0xffffffff) throw new NotFast();
        this.pos = at + 1;
        return value;
      }
      scale *= 128;
    }
    throw new NotFast();
  }

  /** A zigzag sint32 (protobufjs semantics). */
  sint32(end: number): number {
    const value = this.uint32(end);
    return ((value >>> 1) ^ -(value & 1)) | 0;
  }

  /** A bool encoded in one byte, 0 or 1. */
  bool(end: number): boolean {
    if (this.pos >= end) throw new NotFast();
    const byte = this.buf[this.pos++]!;
    if (byte > 1) throw new NotFast();
    return byte === 1;
  }

  /** A little-endian double. */
  double(end: number): number {
    if (this.pos + 8 > end) throw new NotFast();
    const value = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  /** The end of a length-delimited field starting here, within `end`. */
  delimited(end: number): number {
    const length = this.uint32(end);
    const fieldEnd = this.pos + length;
    if (fieldEnd > end) throw new NotFast();
    return fieldEnd;
  }

  /** A UTF-8 string (decoded as protobufjs does for a Buffer). */
  string(end: number): string {
    const fieldEnd = this.delimited(end);
    const start = this.pos;
    this.pos = fieldEnd;
    return this.strings.decode(this.buf, start, fieldEnd);
  }

  /** Skips a field of an unknown number, as protobufjs does. */
  skip(tag: number, end: number): void {
    switch (tag & 7) {
      case VARINT:
        this.uint49Any(end);
        return;
      case FIXED64:
        this.advance(8, end);
        return;
      case LENGTH_DELIMITED:
        this.pos = this.delimited(end);
        return;
      case FIXED32:
        this.advance(4, end);
        return;
      default:
        throw new NotFast();
    }
  }

  private uint49Any(end: number): void {
    for (let i = 0; i < 10; i += 1) {
      if (this.pos >= end) throw new NotFast();
      if (this.buf[this.pos++]! < 0x80) return;
    }
    throw new NotFast();
  }

  private advance(count: number, end: number): void {
    if (this.pos + count > end) throw new NotFast();
    this.pos += count;
  }
}

/** The tag of a field number and wire type. */
export function tag(field: number, wireType: number): number {
  return field * 8 + wireType;
}

/** Skips a field this reader does not know; gives up on known ones. */
export function skipOther(
  c: WireCursor,
  t: number,
  end: number,
  known: boolean,
) {
  if (known || t >>> 3 === 0) throw new NotFast();
  c.skip(t, end);
}

/** The value of a wire enum (1, 2, …); gives up on 0 or unknown values. */
export function enumValue<T>(values: readonly T[], wire: number): T {
  const value = values[wire - 1];
  if (value === undefined) throw new NotFast();
  return value;
}
