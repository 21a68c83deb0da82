/**
 * Per-process lists through `nvmlDevice{Compute,Graphics}RunningProcesses`
 * with the stride chosen at run time (research/nvml.md §4): the buffer has
 * room for the largest stride, the first stride tried comes from the
 * symbols present (or from what this driver was seen to write), and every
 * entry is checked before it is believed.
 */
import { NVML } from './nvml-errors.ts';
import type { ProcessListFunction, NvmlLibrary } from './nvml-library.ts';
import { PROCESS_SYMBOLS } from './nvml-library.ts';
import type { ProcessStride } from './nvml-decode.ts';
import {
  MAX_PROCESS_STRIDE,
  chooseProcessStride,
  decodeProcessEntries,
} from './nvml-decode.ts';
import type { ProcessEntry } from './nvml-decode.ts';

const INITIAL_CAPACITY = 64;
const MAX_CAPACITY = 65_536;
const MAX_GROW_TRIES = 4;

/** What one list call gave: entries, an NVML error, or an unknown ABI. */
export type ProcessListResult =
  | { kind: 'ok'; entries: ProcessEntry[] }
  | { kind: 'error'; call: string; code: number }
  | { kind: 'abi_mismatch'; call: string; count: number };

interface ListCall {
  symbol: string;
  fn: ProcessListFunction;
  strides: ProcessStride[];
}

/** Reads process lists into one reused buffer. Not thread-safe. */
export class ProcessListReader {
  private capacity = INITIAL_CAPACITY;
  private infos = Buffer.alloc(INITIAL_CAPACITY * MAX_PROCESS_STRIDE);
  private readonly count = Buffer.alloc(4);
  private readonly calls: Record<'compute' | 'graphics', ListCall | null>;
  private learnedStride: ProcessStride | null = null;

  constructor(lib: NvmlLibrary) {
    const v3Stride = guessV3Stride(lib);
    this.calls = {
      compute: pickCall(lib, PROCESS_SYMBOLS.compute, v3Stride),
      graphics: pickCall(lib, PROCESS_SYMBOLS.graphics, v3Stride),
    };
  }

  /** The symbol used for a list, or `null` when the driver has none. */
  symbol(kind: 'compute' | 'graphics'): string | null {
    return this.calls[kind]?.symbol ?? null;
  }

  /** Lists one device's processes of `kind`; `totalBytes` bounds memory. */
  read(
    device: number,
    kind: 'compute' | 'graphics',
    totalBytes: number | null,
  ): ProcessListResult {
    const call = this.calls[kind];
    if (!call) {
      const symbol = PROCESS_SYMBOLS[kind][0];
      return {
        kind: 'error',
        call: symbol,
        code: NVML.ERROR_FUNCTION_NOT_FOUND,
      };
    }

    for (let attempt = 0; attempt < MAX_GROW_TRIES; attempt += 1) {
      this.count.writeUInt32LE(this.capacity, 0);
      const code = call.fn(device, this.count, this.infos);
      const needed = this.count.readUInt32LE(0);
      if (code === NVML.ERROR_INSUFFICIENT_SIZE) {
        // The list can grow between calls: leave room (nvitop: 2n + 5).
        if (!this.grow(needed * 2 + 5)) break;
        continue;
      }
      if (code !== NVML.SUCCESS)
        return { kind: 'error', call: call.symbol, code };
      return this.decode(call, needed, totalBytes);
    }
    return {
      kind: 'error',
      call: call.symbol,
      code: NVML.ERROR_INSUFFICIENT_SIZE,
    };
  }

  private decode(
    call: ListCall,
    count: number,
    totalBytes: number | null,
  ): ProcessListResult {
    if (count > this.capacity) {
      return { kind: 'abi_mismatch', call: call.symbol, count };
    }
    const strides = this.learnedStride
      ? [
          this.learnedStride,
          ...call.strides.filter((s) => s !== this.learnedStride),
        ]
      : call.strides;
    const stride = chooseProcessStride(this.infos, count, strides, totalBytes);
    if (stride === null)
      return { kind: 'abi_mismatch', call: call.symbol, count };

    // One entry fits every stride; only two or more tell them apart.
    if (count >= 2 && stride !== call.strides[0]) this.learnedStride = stride;
    return {
      kind: 'ok',
      entries: decodeProcessEntries(this.infos, count, stride),
    };
  }

  private grow(capacity: number): boolean {
    if (capacity <= this.capacity || capacity > MAX_CAPACITY) return false;
    this.capacity = capacity;
    this.infos = Buffer.alloc(capacity * MAX_PROCESS_STRIDE);
    return true;
  }
}

/**
 * nvitop's rule: `_v3` wrote 32-byte entries only on 535.43–535.86, the
 * drivers that export nvmlDeviceGetConfComputeMemSizeInfo but not yet
 * nvmlDeviceGetRunningProcessDetailList; 24 bytes everywhere else.
 */
function guessV3Stride(lib: NvmlLibrary): ProcessStride {
  const early535 =
    lib.hasSymbol('nvmlDeviceGetConfComputeMemSizeInfo') &&
    !lib.hasSymbol('nvmlDeviceGetRunningProcessDetailList');
  return early535 ? 32 : 24;
}

function pickCall(
  lib: NvmlLibrary,
  symbols: readonly string[],
  v3Stride: ProcessStride,
): ListCall | null {
  for (const symbol of symbols) {
    const fn = lib.processFns.get(symbol);
    if (!fn) continue;
    const first: ProcessStride = symbol.endsWith('_v3')
      ? v3Stride
      : symbol.endsWith('_v2')
        ? 24
        : 16;
    const rest = ([24, 32, 16] as const).filter((s) => s !== first);
    return { symbol, fn, strides: [first, ...rest] };
  }
  return null;
}
