/**
 * The koffi binding of `libnvidia-ml.so.1`: loads the library, binds the
 * versioned symbols gpuwarden uses (never the unversioned names, which
 * are the old ABIs: research/nvml.md §1) and says which ones exist.
 *
 * Every out-parameter is a `void *` filled into a caller's preallocated
 * Buffer and decoded by hand (nvml-decode.ts). A device handle
 * (`nvmlDevice_t`, an opaque pointer) travels as a `uint64` Number: it is
 * passed in the same integer register as a pointer on LP64 and Win64, and
 * user-space addresses fit in 2^53. This saves koffi's pointer objects.
 */
import koffi from 'koffi';
import type { LibraryHandle } from 'koffi';
import type { Result } from '../../../shared/src/result.ts';
import { err, ok } from '../../../shared/src/result.ts';

/** The bound functions; each returns an `nvmlReturn_t` unless noted. */
export interface NvmlFunctions {
  nvmlInit_v2(): number;
  nvmlShutdown(): number;
  /** A library-owned static string, copied into a JS string. */
  nvmlErrorString(code: number): string;
  nvmlSystemGetDriverVersion(out: Buffer, length: number): number;
  nvmlDeviceGetCount_v2(count: Buffer): number;
  nvmlDeviceGetHandleByIndex_v2(index: number, handle: Buffer): number;
  nvmlDeviceGetUUID(device: number, out: Buffer, length: number): number;
  nvmlDeviceGetName(device: number, out: Buffer, length: number): number;
  nvmlDeviceGetPciInfo_v3(device: number, pci: Buffer): number;
  nvmlDeviceGetMemoryInfo_v2(device: number, memory: Buffer): number;
  nvmlDeviceGetMemoryInfo(device: number, memory: Buffer): number;
  nvmlDeviceGetUtilizationRates(device: number, util: Buffer): number;
  nvmlDeviceGetTemperatureV(device: number, temperature: Buffer): number;
  nvmlDeviceGetTemperature(device: number, sensor: number, out: Buffer): number;
  nvmlDeviceGetPowerUsage(device: number, milliwatts: Buffer): number;
  nvmlDeviceGetMigMode(
    device: number,
    current: Buffer,
    pending: Buffer,
  ): number;
  nvmlDeviceGetMaxMigDeviceCount(device: number, count: Buffer): number;
  nvmlDeviceGetMigDeviceHandleByIndex(
    device: number,
    index: number,
    handle: Buffer,
  ): number;
}

/** A process-list call: `(device, unsigned int *count, void *infos)`. */
export type ProcessListFunction = (
  device: number,
  count: Buffer,
  infos: Buffer,
) => number;

/** The process-list symbols, newest first. */
export const PROCESS_SYMBOLS = {
  compute: [
    'nvmlDeviceGetComputeRunningProcesses_v3',
    'nvmlDeviceGetComputeRunningProcesses_v2',
    'nvmlDeviceGetComputeRunningProcesses',
  ],
  graphics: [
    'nvmlDeviceGetGraphicsRunningProcesses_v3',
    'nvmlDeviceGetGraphicsRunningProcesses_v2',
    'nvmlDeviceGetGraphicsRunningProcesses',
  ],
} as const;

/** A loaded library: the functions it has, and its symbol names. */
export interface NvmlLibrary {
  readonly path: string;
  readonly fns: Partial<NvmlFunctions> &
    Pick<NvmlFunctions, (typeof REQUIRED)[number]>;
  /** Process-list functions by symbol name (only those present). */
  readonly processFns: ReadonlyMap<string, ProcessListFunction>;
  /** Symbols probed for behaviour, not called (stride heuristics). */
  readonly hasSymbol: (name: string) => boolean;
  unload(): void;
}

const H = 'uint64';
const P = 'void *';
const U = 'uint32';

const SIGNATURES: Record<keyof NvmlFunctions, string[]> = {
  nvmlInit_v2: [],
  nvmlShutdown: [],
  nvmlErrorString: ['int'],
  nvmlSystemGetDriverVersion: [P, U],
  nvmlDeviceGetCount_v2: [P],
  nvmlDeviceGetHandleByIndex_v2: [U, P],
  nvmlDeviceGetUUID: [H, P, U],
  nvmlDeviceGetName: [H, P, U],
  nvmlDeviceGetPciInfo_v3: [H, P],
  nvmlDeviceGetMemoryInfo_v2: [H, P],
  nvmlDeviceGetMemoryInfo: [H, P],
  nvmlDeviceGetUtilizationRates: [H, P],
  nvmlDeviceGetTemperatureV: [H, P],
  nvmlDeviceGetTemperature: [H, 'int', P],
  nvmlDeviceGetPowerUsage: [H, P],
  nvmlDeviceGetMigMode: [H, P, P],
  nvmlDeviceGetMaxMigDeviceCount: [H, P],
  nvmlDeviceGetMigDeviceHandleByIndex: [H, U, P],
};

const REQUIRED = [
  'nvmlInit_v2',
  'nvmlShutdown',
  'nvmlErrorString',
  'nvmlDeviceGetCount_v2',
  'nvmlDeviceGetHandleByIndex_v2',
  'nvmlDeviceGetUUID',
] as const;

/** Why a library could not be used. */
export interface NvmlLoadFailure {
  kind: 'library_missing' | 'library_incompatible';
  message: string;
}

/**
 * Loads the library at `path` (a file name is looked up by the dynamic
 * loader, as `dlopen` does) and binds what it exports.
 */
export function loadNvmlLibrary(
  path: string,
): Result<NvmlLibrary, NvmlLoadFailure> {
  let lib: LibraryHandle;
  try {
    lib = koffi.load(path);
  } catch (error) {
    return err({
      kind: 'library_missing',
      message: `cannot load the NVML library ${path} (${firstLine(error)}); install the NVIDIA driver or use --source nvidia-smi`,
    });
  }

  const fns = bindAll(lib);
  const missing = REQUIRED.filter((name) => !fns[name]);
  if (missing.length > 0) {
    lib.unload();
    return err({
      kind: 'library_incompatible',
      message: `the NVML library ${path} lacks ${missing.join(', ')}; it is older than gpuwarden supports (driver R418+), use --source nvidia-smi`,
    });
  }

  return ok({
    path,
    fns: fns as NvmlLibrary['fns'],
    processFns: bindProcessFns(lib),
    hasSymbol: (name) => bind(lib, name, [P]) !== null,
    unload: () => lib.unload(),
  });
}

function bindAll(lib: LibraryHandle): Partial<NvmlFunctions> {
  const fns: Record<string, unknown> = {};
  for (const [name, args] of Object.entries(SIGNATURES)) {
    const result = name === 'nvmlErrorString' ? 'const char *' : 'int';
    const fn = bind(lib, name, args, result);
    if (fn) fns[name] = fn;
  }
  return fns as Partial<NvmlFunctions>;
}

function bindProcessFns(lib: LibraryHandle): Map<string, ProcessListFunction> {
  const fns = new Map<string, ProcessListFunction>();
  for (const name of [
    ...PROCESS_SYMBOLS.compute,
    ...PROCESS_SYMBOLS.graphics,
  ]) {
    const fn = bind(lib, name, [H, P, P]);
    if (fn) fns.set(name, fn as ProcessListFunction);
  }
  return fns;
}

/** Binds one symbol; `null` when this driver does not export it. */
function bind(
  lib: LibraryHandle,
  name: string,
  args: string[],
  result = 'int',
): ((...args: unknown[]) => unknown) | null {
  try {
    return lib.func(name, result, args) as (...args: unknown[]) => unknown;
  } catch {
    // koffi throws when the symbol is absent: that is the answer we want.
    return null;
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
