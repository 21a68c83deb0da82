/**
 * Hand decoding of the buffers NVML fills (layouts: research/nvml.md §3).
 * koffi's own struct decoding costs ~0.65 µs per struct against ~0.06 µs by
 * hand (perf-baselines.md §1), so the binding passes preallocated Buffers
 * and these functions read them. Pure; never throws on odd bytes.
 */

/** `NVML_VALUE_NOT_AVAILABLE` halves: usedGpuMemory unknown (WDDM). */
const U32_ALL_ONES = 0xffffffff;

/** Linux `pid_max` ceiling: a larger pid is a decoding error. */
export const MAX_PID = 4_194_304;

/** GPU/compute instance ids are small; 0xFFFFFFFF means "not MIG". */
const MAX_INSTANCE_ID = 64;

/** The `version` of `nvmlMemory_v2_t`: sizeof (40) | 2 << 24. */
export const MEMORY_V2_VERSION = 0x02000028;

/** The `version` of `nvmlTemperature_t`: sizeof (12) | 1 << 24. */
export const TEMPERATURE_V1_VERSION = 0x0100000c;

/** Entry strides a `…RunningProcesses` call may write, in bytes. */
export type ProcessStride = 16 | 24 | 32;

/** Bytes per entry slot in process buffers: room for the largest stride. */
export const MAX_PROCESS_STRIDE = 32;

/**
 * Decodes a NUL-terminated C string leniently: bytes up to the first NUL
 * (or `maxBytes`), invalid UTF-8 replaced by U+FFFD; `null` when empty.
 */
export function decodeCString(
  buf: Buffer,
  offset = 0,
  maxBytes = buf.length - offset,
): string | null {
  const end = offset + Math.min(maxBytes, buf.length - offset);
  let stop = buf.indexOf(0, offset);
  if (stop < 0 || stop > end) stop = end;
  const text = buf.toString('utf8', offset, stop).trim();
  return text === '' ? null : text;
}

/** True when a decoded string held bytes that were not valid UTF-8. */
export function hasReplacementChars(text: string): boolean {
  return text.includes('\uFFFD');
}

/**
 * Reads an unsigned 64-bit byte count; `null` for the all-ones sentinel
 * and for values past 2^53 (no real byte count is that large; a Number
 * could not hold it exactly).
 */
export function readBytes64(buf: Buffer, offset: number): number | null {
  const low = buf.readUInt32LE(offset);
  const high = buf.readUInt32LE(offset + 4);
  if (high === U32_ALL_ONES && low === U32_ALL_ONES) return null;
  if (high >= 0x200000) return null;
  return high * 2 ** 32 + low;
}

/** Device memory in bytes; each `null` when unknown. */
export interface DecodedMemory {
  totalBytes: number | null;
  usedBytes: number | null;
  freeBytes: number | null;
  reservedBytes: number | null;
}

/**
 * Decodes `nvmlMemory_v2_t` (40 bytes): version@0, total@8, reserved@16,
 * free@24, used@32. `used` excludes `reserved`, as nvidia-smi shows it.
 */
export function decodeMemoryV2(buf: Buffer): DecodedMemory {
  return {
    totalBytes: readBytes64(buf, 8),
    reservedBytes: readBytes64(buf, 16),
    freeBytes: readBytes64(buf, 24),
    usedBytes: readBytes64(buf, 32),
  };
}

/**
 * Decodes `nvmlMemory_t` (v1, 24 bytes): total@0, free@8, used@16. On R510+
 * drivers `used` includes the reserved memory, which v1 cannot separate:
 * `reservedBytes` is `null`.
 */
export function decodeMemoryV1(buf: Buffer): DecodedMemory {
  return {
    totalBytes: readBytes64(buf, 0),
    freeBytes: readBytes64(buf, 8),
    usedBytes: readBytes64(buf, 16),
    reservedBytes: null,
  };
}

/** `nvmlPciInfo_t` (v3, 68 bytes): the full bus id sits at offset 36. */
export function decodePciBusId(buf: Buffer): string | null {
  return decodeCString(buf, 36, 32);
}

/** One decoded process entry. */
export interface ProcessEntry {
  pid: number;
  /** VRAM in bytes; `null` for the not-available sentinel. */
  usedBytes: number | null;
  /** MIG GPU instance; `null` when not in a MIG slice (0xFFFFFFFF). */
  gpuInstanceId: number | null;
  /** MIG compute instance; `null` when not in a MIG slice. */
  computeInstanceId: number | null;
}

/** Decodes `count` entries of `stride` bytes (pid@0, used@8, GI@16, CI@20). */
export function decodeProcessEntries(
  buf: Buffer,
  count: number,
  stride: ProcessStride,
): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (let at = 0; at < count * stride; at += stride) {
    const gi = stride >= 24 ? buf.readUInt32LE(at + 16) : U32_ALL_ONES;
    const ci = stride >= 24 ? buf.readUInt32LE(at + 20) : U32_ALL_ONES;
    entries.push({
      pid: buf.readUInt32LE(at),
      usedBytes: readBytes64(buf, at + 8),
      gpuInstanceId: gi === U32_ALL_ONES ? null : gi,
      computeInstanceId: ci === U32_ALL_ONES ? null : ci,
    });
  }
  return entries;
}

/**
 * True when an entry decoded at `stride` looks real: a pid in 1..pid_max,
 * memory either the sentinel or at most the device total, GI/CI either
 * "not MIG" or small. These catch every wrong-stride shape reported
 * (nvml.md §4: pids 0 and 4294967295, pid and memory swapped).
 */
export function isPlausibleEntry(
  buf: Buffer,
  offset: number,
  stride: ProcessStride,
  totalBytes: number | null,
): boolean {
  const pid = buf.readUInt32LE(offset);
  if (pid === 0 || pid > MAX_PID) return false;
  if (!isPlausibleBytes(buf, offset + 8, totalBytes)) return false;
  if (stride === 16) return true;
  if (!isInstanceId(buf.readUInt32LE(offset + 16))) return false;
  if (!isInstanceId(buf.readUInt32LE(offset + 20))) return false;
  return stride === 24 || isPlausibleBytes(buf, offset + 24, totalBytes);
}

function isPlausibleBytes(
  buf: Buffer,
  offset: number,
  totalBytes: number | null,
): boolean {
  const high = buf.readUInt32LE(offset + 4);
  if (high === U32_ALL_ONES && buf.readUInt32LE(offset) === U32_ALL_ONES) {
    return true;
  }
  const value = readBytes64(buf, offset);
  return value !== null && (totalBytes === null || value <= totalBytes);
}

function isInstanceId(id: number): boolean {
  return id === U32_ALL_ONES || id < MAX_INSTANCE_ID;
}

/**
 * Finds the stride at which all `count` entries look real, trying
 * `strides` in order (the preferred one first); `null` when none fits
 * (an unknown layout: the caller falls back to nvidia-smi).
 */
export function chooseProcessStride(
  buf: Buffer,
  count: number,
  strides: readonly ProcessStride[],
  totalBytes: number | null,
): ProcessStride | null {
  for (const stride of strides) {
    if (count * stride > buf.length) continue;
    let plausible = true;
    for (let at = 0; plausible && at < count * stride; at += stride) {
      plausible = isPlausibleEntry(buf, at, stride, totalBytes);
    }
    if (plausible) return stride;
  }
  return null;
}
