/**
 * Recently decoded short ASCII strings, looked up by their bytes: names,
 * users, command lines, GPU UUIDs and PCI ids repeat in every snapshot of
 * a node, and taking the string decoded last time (after comparing it
 * with the bytes) is cheaper than decoding and allocating it again, and
 * leaves much less garbage. Direct-mapped and fixed in size, so memory
 * stays bounded (at most `slots` strings of `MAX_CACHED_BYTES`); a
 * colliding string replaces the one in its slot.
 */

/** Strings longer than this (bytes) are decoded without the table. */
export const MAX_CACHED_BYTES = 128;

/** Node's native slicers, faster than `toString` with an encoding. */
interface NativeSlices {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

/** The table; one per decoder (not shared across threads). */
export class StringTable {
  private readonly entries: (string | undefined)[];
  private readonly mask: number;

  /** `slots` is rounded up to a power of two. */
  constructor(slots = 16384) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(2, slots)));
    this.entries = new Array<string | undefined>(size);
    this.mask = size - 1;
  }

  /**
   * The UTF-8 text of `buf[start, end)`, exactly as `buf.toString('utf8',
   * start, end)` gives it.
   */
  decode(buf: Buffer, start: number, end: number): string {
    const native = buf as unknown as NativeSlices;
    const length = end - start;
    if (length === 0) return '';
    if (length > MAX_CACHED_BYTES) return native.utf8Slice(start, end);
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i += 1) {
      const byte = buf[i]!;
      if (byte >= 0x80) return native.utf8Slice(start, end);
      hash = Math.imul(hash ^ byte, 0x01000193);
    }
    const slot = (hash ^ (hash >>> 15)) & this.mask;
    const cached = this.entries[slot];
    if (cached !== undefined && sameAscii(cached, buf, start, length)) {
      return cached;
    }
    // Plain ASCII: latin1 decoding gives the same text without validation.
    const text = native.latin1Slice(start, end);
    this.entries[slot] = text;
    return text;
  }
}

function sameAscii(
  text: string,
  buf: Buffer,
  start: number,
  length: number,
): boolean {
  if (text.length !== length) return false;
  for (let i = 0; i < length; i += 1) {
    if (text.charCodeAt(i) !== buf[start + i]) return false;
  }
  return true;
}
