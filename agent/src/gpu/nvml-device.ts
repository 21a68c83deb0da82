/**
 * Reads the fields of one NVML device handle (a GPU or a MIG device) into
 * preallocated buffers. A failed field becomes `null` plus a problem; a
 * lost GPU or a library that needs re-initialising is flagged on the
 * context so the pass can drop that GPU or restart, keeping the others.
 */
import type { GpuMemory, SampleProblem } from '../../../shared/src/snapshot.ts';
import type { DecodedMemory } from './nvml-decode.ts';
import {
  MEMORY_V2_VERSION,
  TEMPERATURE_V1_VERSION,
  decodeCString,
  decodeMemoryV1,
  decodeMemoryV2,
  decodePciBusId,
} from './nvml-decode.ts';
import {
  NVML,
  needsReinit,
  nvmlErrorName,
  problemKindFor,
} from './nvml-errors.ts';
import type { NvmlLibrary } from './nvml-library.ts';
import type { ProcessListReader } from './nvml-processes.ts';
import { mergeProcessLists } from './source.ts';
import type { RawProcess } from './source.ts';

/** NVML_DEVICE_NAME_V2_BUFFER_SIZE and NVML_DEVICE_UUID_V2_BUFFER_SIZE. */
export const TEXT_BUFFER_BYTES = 96;

/** What one device read collects besides its values. */
export interface DeviceContext {
  /** For messages: `GPU 0`, `MIG device 1 of GPU 0`. */
  label: string;
  uuid: string | undefined;
  problems: SampleProblem[];
  /** GPU_IS_LOST, or a code after which NVML must be initialised again. */
  fatal: number | null;
  /** Set when a process list had an entry layout no stride explains. */
  abiMismatch: string | null;
}

const NO_MEMORY: GpuMemory = {
  totalBytes: null,
  usedBytes: null,
  freeBytes: null,
  reservedBytes: null,
};

/** Field reads of device handles; owns the small out-buffers. */
export class DeviceFieldReader {
  readonly text = Buffer.alloc(TEXT_BUFFER_BYTES);
  private readonly pci = Buffer.alloc(68);
  private readonly memoryBuf = Buffer.alloc(40);
  private readonly u32 = Buffer.alloc(4);
  private readonly u32b = Buffer.alloc(4);
  private readonly util = Buffer.alloc(8);
  private readonly temperature = Buffer.alloc(12);
  private memoryV2 = true;
  private temperatureV = true;

  constructor(
    private readonly lib: NvmlLibrary,
    private readonly lists: ProcessListReader,
  ) {}

  /** True on success; otherwise records why `what` is unknown. */
  check(
    ctx: DeviceContext,
    symbol: string,
    code: number,
    what: string,
  ): boolean {
    if (code === NVML.SUCCESS) return true;
    if (code === NVML.ERROR_GPU_IS_LOST || needsReinit(code)) ctx.fatal = code;
    ctx.problems.push({
      ...(ctx.uuid ? { gpuUuid: ctx.uuid } : {}),
      kind: problemKindFor(code),
      message: `${what} of ${ctx.label} unknown: NVML ${symbol} returned ${this.lib.fns.nvmlErrorString(code)} (${nvmlErrorName(code)})`,
    });
    return false;
  }

  /** nvmlDeviceGetUUID / nvmlDeviceGetName into a string, or `null`. */
  string(
    ctx: DeviceContext,
    handle: number,
    symbol: 'nvmlDeviceGetUUID' | 'nvmlDeviceGetName',
  ): string | null {
    const fn = this.lib.fns[symbol];
    if (!fn) return null;
    const code = fn(handle, this.text, TEXT_BUFFER_BYTES);
    const what = symbol === 'nvmlDeviceGetUUID' ? 'UUID' : 'name';
    return this.check(ctx, symbol, code, what)
      ? decodeCString(this.text)
      : null;
  }

  /** nvmlDeviceGetPciInfo_v3 `busId`, e.g. `00000000:01:00.0`. */
  pciBusId(ctx: DeviceContext, handle: number): string | null {
    const fn = this.lib.fns.nvmlDeviceGetPciInfo_v3;
    if (!fn) return null;
    const code = fn(handle, this.pci);
    return this.check(ctx, 'nvmlDeviceGetPciInfo_v3', code, 'PCI bus id')
      ? decodePciBusId(this.pci)
      : null;
  }

  /**
   * nvmlDeviceGetMemoryInfo_v2 (used excludes reserved, as nvidia-smi);
   * v1 only when the driver lacks v2 (< 510), flagged: its used includes
   * the reserved memory.
   */
  memory(ctx: DeviceContext, handle: number): GpuMemory {
    const v2 = this.memoryV2 ? this.lib.fns.nvmlDeviceGetMemoryInfo_v2 : null;
    if (v2) {
      this.memoryBuf.fill(0);
      this.memoryBuf.writeUInt32LE(MEMORY_V2_VERSION, 0);
      const code = v2(handle, this.memoryBuf);
      if (code === NVML.SUCCESS)
        return this.known(ctx, decodeMemoryV2(this.memoryBuf));
      if (code !== NVML.ERROR_FUNCTION_NOT_FOUND) {
        this.check(ctx, 'nvmlDeviceGetMemoryInfo_v2', code, 'memory');
        return NO_MEMORY;
      }
      this.memoryV2 = false;
    }
    const v1 = this.lib.fns.nvmlDeviceGetMemoryInfo;
    if (!v1) return NO_MEMORY;
    const code = v1(handle, this.memoryBuf);
    if (!this.check(ctx, 'nvmlDeviceGetMemoryInfo', code, 'memory'))
      return NO_MEMORY;
    ctx.problems.push({
      ...(ctx.uuid ? { gpuUuid: ctx.uuid } : {}),
      kind: 'memory_includes_reserved',
      message: `this driver has no nvmlDeviceGetMemoryInfo_v2 (older than 510): used memory of ${ctx.label} includes the driver's reserved memory`,
    });
    return this.known(ctx, decodeMemoryV1(this.memoryBuf));
  }

  private known(ctx: DeviceContext, memory: DecodedMemory): GpuMemory {
    if (memory.totalBytes === null || memory.usedBytes === null) {
      ctx.problems.push({
        ...(ctx.uuid ? { gpuUuid: ctx.uuid } : {}),
        kind: 'memory_unknown',
        message: `NVML reported memory of ${ctx.label} as not available`,
      });
    }
    return memory;
  }

  /** nvmlDeviceGetUtilizationRates, percent over the last sample period. */
  utilization(
    ctx: DeviceContext,
    handle: number,
  ): { gpu: number | null; memory: number | null } {
    const fn = this.lib.fns.nvmlDeviceGetUtilizationRates;
    const code = fn ? fn(handle, this.util) : NVML.ERROR_FUNCTION_NOT_FOUND;
    if (
      !this.check(ctx, 'nvmlDeviceGetUtilizationRates', code, 'utilization')
    ) {
      return { gpu: null, memory: null };
    }
    return {
      gpu: this.util.readUInt32LE(0),
      memory: this.util.readUInt32LE(4),
    };
  }

  /** nvmlDeviceGetTemperatureV (565+), else nvmlDeviceGetTemperature; °C. */
  temperatureC(ctx: DeviceContext, handle: number): number | null {
    const v = this.temperatureV ? this.lib.fns.nvmlDeviceGetTemperatureV : null;
    if (v) {
      this.temperature.fill(0);
      this.temperature.writeUInt32LE(TEMPERATURE_V1_VERSION, 0);
      const code = v(handle, this.temperature);
      if (code === NVML.SUCCESS) return this.temperature.readInt32LE(8);
      if (code !== NVML.ERROR_FUNCTION_NOT_FOUND) {
        this.check(ctx, 'nvmlDeviceGetTemperatureV', code, 'temperature');
        return null;
      }
      this.temperatureV = false;
    }
    const fn = this.lib.fns.nvmlDeviceGetTemperature;
    const code = fn ? fn(handle, 0, this.u32) : NVML.ERROR_FUNCTION_NOT_FOUND;
    return this.check(ctx, 'nvmlDeviceGetTemperature', code, 'temperature')
      ? this.u32.readUInt32LE(0)
      : null;
  }

  /** nvmlDeviceGetPowerUsage, converted from milliwatts to watts. */
  powerWatts(ctx: DeviceContext, handle: number): number | null {
    const fn = this.lib.fns.nvmlDeviceGetPowerUsage;
    const code = fn ? fn(handle, this.u32) : NVML.ERROR_FUNCTION_NOT_FOUND;
    return this.check(ctx, 'nvmlDeviceGetPowerUsage', code, 'power')
      ? this.u32.readUInt32LE(0) / 1000
      : null;
  }

  /** nvmlDeviceGetMigMode current mode; `null` on GPUs without MIG. */
  migEnabled(ctx: DeviceContext, handle: number): boolean | null {
    const fn = this.lib.fns.nvmlDeviceGetMigMode;
    if (!fn) return null;
    const code = fn(handle, this.u32, this.u32b);
    if (code === NVML.ERROR_NOT_SUPPORTED) return null;
    if (!this.check(ctx, 'nvmlDeviceGetMigMode', code, 'MIG mode')) return null;
    return this.u32.readUInt32LE(0) === 1;
  }

  /**
   * Compute and graphics processes, merged into one row per pid. An NVML
   * error leaves the list empty with a problem; an unknown entry layout
   * sets `ctx.abiMismatch`.
   */
  processes(
    ctx: DeviceContext,
    handle: number,
    totalBytes: number | null,
  ): RawProcess[] {
    const compute = this.list(ctx, handle, 'compute', totalBytes);
    const graphics = this.list(ctx, handle, 'graphics', totalBytes);
    const merged = mergeProcessLists(compute, graphics);
    if (merged.some((p) => p.usedBytes === null)) {
      ctx.problems.push({
        ...(ctx.uuid ? { gpuUuid: ctx.uuid } : {}),
        kind: 'process_memory_unknown',
        message: `the driver does not say how much memory each process holds on ${ctx.label} (usedGpuMemory not available, as under WDDM); use device-level used/free`,
      });
    }
    return merged;
  }

  private list(
    ctx: DeviceContext,
    handle: number,
    type: 'compute' | 'graphics',
    totalBytes: number | null,
  ): RawProcess[] {
    if (ctx.fatal !== null || ctx.abiMismatch !== null) return [];
    const result = this.lists.read(handle, type, totalBytes);
    if (result.kind === 'abi_mismatch') {
      ctx.abiMismatch = `NVML ${result.call} returned ${result.count} process entries on ${ctx.label} in a layout gpuwarden does not recognise (process-info ABI mismatch); read it through nvidia-smi instead (source auto does so by itself)`;
      return [];
    }
    if (result.kind === 'error') {
      this.check(ctx, result.call, result.code, `${type} processes`);
      return [];
    }
    return result.entries.map((e) => ({
      pid: e.pid,
      type,
      usedBytes: e.usedBytes,
      name: null,
    }));
  }
}
