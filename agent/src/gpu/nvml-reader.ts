/**
 * One synchronous NVML sampling pass over every GPU (and MIG device):
 * init, count, handles, fields, processes. It runs wherever the source
 * puts it (the calling thread or a worker, see nvml-source.ts). One GPU
 * that fails is reported in `problems` and the others are still read.
 */
import type { Result } from '../../../shared/src/result.ts';
import { err, ok } from '../../../shared/src/result.ts';
import type { SampleProblem } from '../../../shared/src/snapshot.ts';
import { decodeCString, hasReplacementChars } from './nvml-decode.ts';
import type { DeviceContext } from './nvml-device.ts';
import { DeviceFieldReader, TEXT_BUFFER_BYTES } from './nvml-device.ts';
import { NVML, needsReinit } from './nvml-errors.ts';
import type { NvmlLibrary } from './nvml-library.ts';
import { ProcessListReader } from './nvml-processes.ts';
import type { RawGpu, SourceSample } from './source.ts';

/** A failed call that stops the whole pass. */
export interface NvmlPassFailure {
  /** `call_failed` (see `code`) or `abi_mismatch`. */
  kind: 'call_failed' | 'abi_mismatch';
  /** The NVML symbol that failed. */
  call: string;
  /** The NVML return code; `null` for an ABI mismatch. */
  code: number | null;
  /** `nvmlErrorString` text, or what was wrong with the entries. */
  text: string;
  /** True when NVML must be initialised again before the next pass. */
  reinit: boolean;
}

interface Identity {
  name: string | null;
  pciBusId: string | null;
  nameProblem: SampleProblem | null;
}

/** Reads NVML; holds the buffers and what does not change between passes. */
export class NvmlReader {
  private readonly fields: DeviceFieldReader;
  private readonly handle = Buffer.alloc(8);
  private readonly u32 = Buffer.alloc(4);
  private readonly identities = new Map<string, Identity>();
  private readonly uuidByIndex = new Map<number, string>();
  private driverVersion: string | null = null;

  constructor(private readonly lib: NvmlLibrary) {
    this.fields = new DeviceFieldReader(lib, new ProcessListReader(lib));
  }

  /** nvmlInit_v2, then the driver version; a failure names the code. */
  init(): NvmlPassFailure | null {
    const code = this.lib.fns.nvmlInit_v2();
    if (code !== NVML.SUCCESS) return this.failure('nvmlInit_v2', code);

    this.identities.clear();
    const fn = this.lib.fns.nvmlSystemGetDriverVersion;
    const text = this.fields.text;
    this.driverVersion =
      fn?.(text, TEXT_BUFFER_BYTES) === NVML.SUCCESS
        ? decodeCString(text)
        : null;
    return null;
  }

  /** nvmlShutdown; what it returns does not matter at that point. */
  shutdown(): void {
    this.lib.fns.nvmlShutdown();
  }

  /** One pass over every device. */
  read(): Result<SourceSample, NvmlPassFailure> {
    const code = this.lib.fns.nvmlDeviceGetCount_v2(this.u32);
    if (code !== NVML.SUCCESS)
      return err(this.failure('nvmlDeviceGetCount_v2', code));
    const count = this.u32.readUInt32LE(0);

    const gpus: RawGpu[] = [];
    const problems: SampleProblem[] = [];
    for (let index = 0; index < count; index += 1) {
      const ctx = this.context(`GPU ${index}`, this.uuidByIndex.get(index));
      gpus.push(...this.readGpu(ctx, index));
      problems.push(...ctx.problems);
      if (ctx.abiMismatch !== null)
        return err(this.abiFailure(ctx.abiMismatch));
      if (ctx.fatal !== null && needsReinit(ctx.fatal)) {
        return err(this.failure('a device query', ctx.fatal));
      }
    }
    return ok({
      source: 'nvml',
      driverVersion: this.driverVersion,
      gpus,
      problems,
    });
  }

  private readGpu(ctx: DeviceContext, index: number): RawGpu[] {
    const code = this.lib.fns.nvmlDeviceGetHandleByIndex_v2(index, this.handle);
    if (
      !this.fields.check(
        ctx,
        'nvmlDeviceGetHandleByIndex_v2',
        code,
        'everything',
      )
    ) {
      return [];
    }
    const handle = readHandle(this.handle);
    const uuid = this.fields.string(ctx, handle, 'nvmlDeviceGetUUID');
    if (uuid === null) return [];
    ctx.uuid = uuid;
    this.uuidByIndex.set(index, uuid);

    const migEnabled = this.fields.migEnabled(ctx, handle);
    const gpu = this.readDevice(ctx, handle, index, migEnabled, null);
    if (ctx.fatal !== null || !migEnabled)
      return ctx.fatal === null ? [gpu] : [];
    return [gpu, ...this.readMigDevices(ctx, handle, index, gpu.pciBusId)];
  }

  /** Reads one GPU (`parentPci` null) or one MIG device of a GPU. */
  private readDevice(
    ctx: DeviceContext,
    handle: number,
    index: number,
    migEnabled: boolean | null,
    parentPci: string | null,
  ): RawGpu {
    const identity = this.identity(ctx, handle, parentPci);
    const isMig = parentPci !== null;
    const memory = this.fields.memory(ctx, handle);
    // MIG devices carry memory and processes only: utilization,
    // temperature and power belong to the parent GPU (NOT_SUPPORTED).
    return {
      index,
      uuid: ctx.uuid ?? '',
      name: identity.name,
      pciBusId: identity.pciBusId,
      memory,
      utilizationPercent: isMig
        ? { gpu: null, memory: null }
        : this.fields.utilization(ctx, handle),
      temperatureC: isMig ? null : this.fields.temperatureC(ctx, handle),
      powerWatts: isMig ? null : this.fields.powerWatts(ctx, handle),
      migEnabled,
      // A MIG parent's lists need privileges; they are read per MIG device.
      processes:
        migEnabled && !isMig
          ? []
          : this.fields.processes(ctx, handle, memory.totalBytes),
    };
  }

  /** MIG handles are re-enumerated every pass: they can be reused. */
  private readMigDevices(
    parent: DeviceContext,
    handle: number,
    index: number,
    pciBusId: string | null,
  ): RawGpu[] {
    const {
      nvmlDeviceGetMaxMigDeviceCount: max,
      nvmlDeviceGetMigDeviceHandleByIndex: get,
    } = this.lib.fns;
    if (!max || !get || max(handle, this.u32) !== NVML.SUCCESS) return [];
    const slots = this.u32.readUInt32LE(0);

    const devices: RawGpu[] = [];
    for (let slot = 0; slot < slots && parent.fatal === null; slot += 1) {
      if (get(handle, slot, this.handle) !== NVML.SUCCESS) continue;
      const migHandle = readHandle(this.handle);
      const ctx = this.context(`MIG device ${slot} of GPU ${index}`, undefined);
      ctx.uuid =
        this.fields.string(ctx, migHandle, 'nvmlDeviceGetUUID') ?? undefined;
      if (ctx.uuid)
        devices.push(
          this.readDevice(ctx, migHandle, index, true, pciBusId ?? ''),
        );
      parent.problems.push(...ctx.problems);
      parent.fatal ??= ctx.fatal;
      parent.abiMismatch ??= ctx.abiMismatch;
    }
    return devices;
  }

  /** Name and PCI bus id never change for a UUID: read them once. */
  private identity(
    ctx: DeviceContext,
    handle: number,
    parentPci: string | null,
  ): Identity {
    const known = this.identities.get(ctx.uuid ?? '');
    if (known) {
      if (known.nameProblem) ctx.problems.push(known.nameProblem);
      return known;
    }
    const name = this.fields.string(ctx, handle, 'nvmlDeviceGetName');
    const pciBusId = parentPci ?? this.fields.pciBusId(ctx, handle);
    const nameProblem =
      name !== null && hasReplacementChars(name)
        ? {
            gpuUuid: ctx.uuid ?? '',
            kind: 'name_not_utf8',
            message: `NVML gave a name for ${ctx.label} that is not valid UTF-8; shown with replacement characters`,
          }
        : null;
    if (nameProblem) ctx.problems.push(nameProblem);
    const identity = { name, pciBusId: pciBusId || null, nameProblem };
    if (ctx.fatal === null && ctx.problems.length === (nameProblem ? 1 : 0)) {
      this.identities.set(ctx.uuid ?? '', identity);
    }
    return identity;
  }

  private context(label: string, uuid: string | undefined): DeviceContext {
    return { label, uuid, problems: [], fatal: null, abiMismatch: null };
  }

  private failure(call: string, code: number): NvmlPassFailure {
    return {
      kind: 'call_failed',
      call,
      code,
      text: this.lib.fns.nvmlErrorString(code),
      reinit: needsReinit(code) || call === 'nvmlInit_v2',
    };
  }

  private abiFailure(text: string): NvmlPassFailure {
    return {
      kind: 'abi_mismatch',
      call: 'process list',
      code: null,
      text,
      reinit: false,
    };
  }
}

/** An `nvmlDevice_t` written by NVML, as a Number (see nvml-library.ts). */
function readHandle(buf: Buffer): number {
  return buf.readUInt32LE(4) * 2 ** 32 + buf.readUInt32LE(0);
}
