/**
 * The per-GPU parts of `nvidia-smi -q -x` below the GPU's own fields: the
 * `<processes>` list (type `C`, `G`, `C+G`; memory `N/A` under WDDM) and
 * `<mig_devices>`, whose memory and processes belong to a MIG slice rather
 * than to the whole GPU. Pure.
 */
import type { SampleProblem } from '../../../shared/src/snapshot.ts';
import type { GpuProcessType } from '../../../shared/src/snapshot.ts';
import type { RawGpu, RawProcess } from './source.ts';
import { mergeProcessLists } from './source.ts';
import { buildRawGpu } from './smi-gpu.ts';
import type { SmiGpuField } from './smi-gpu.ts';
import { parseCount, parseMemoryBytes, parseText } from './smi-values.ts';
import { childOf, listOf, textAt } from './smi-xml-node.ts';
import type { XmlNode } from './smi-xml-node.ts';

/** A process with the MIG instance ids it runs in (`null` when not MIG). */
export interface XmlProcess {
  process: RawProcess;
  gpuInstanceId: number | null;
  computeInstanceId: number | null;
}

/**
 * Reads `<processes>` of one GPU: one row per pid (duplicates merged, a
 * pid listed as C and G becomes `compute+graphics`). Entries without a
 * numeric pid are left out, and memory nvidia-smi cannot attribute is
 * `null`; each of these adds one problem per GPU.
 */
export function readXmlProcesses(
  gpu: XmlNode,
  gpuUuid: string,
  problems: SampleProblem[],
): XmlProcess[] {
  const entries = listOf(childOf(gpu, 'processes'), 'process_info');
  const read = entries.map(readEntry);
  const kept = read.filter((p): p is XmlProcess => p !== null);
  noteDropped(entries.length - kept.length, gpuUuid, problems);
  noteUnknownMemory(kept, entries, gpuUuid, problems);

  const idsByPid = new Map(kept.map((p) => [p.process.pid, p]));
  const merged = mergeProcessLists(
    kept.map((p) => p.process),
    [],
  );
  return merged.map((process) => ({
    process,
    gpuInstanceId: idsByPid.get(process.pid)?.gpuInstanceId ?? null,
    computeInstanceId: idsByPid.get(process.pid)?.computeInstanceId ?? null,
  }));
}

function readEntry(entry: XmlNode): XmlProcess | null {
  const pid = parseCount(textAt(entry, ['pid']) ?? '');
  if (!pid.ok) return null;
  const used = parseMemoryBytes(textAt(entry, ['used_memory']) ?? '');
  return {
    process: {
      pid: pid.value,
      type: typeOf(textAt(entry, ['type']) ?? ''),
      usedBytes: used.ok ? used.value : null,
      name: parseText(textAt(entry, ['process_name'])) || null,
    },
    gpuInstanceId: idOf(textAt(entry, ['gpu_instance_id'])),
    computeInstanceId: idOf(textAt(entry, ['compute_instance_id'])),
  };
}

/** `C` compute, `G` graphics, `C+G` both; other letters count as compute. */
function typeOf(text: string): GpuProcessType {
  const letters = text.toUpperCase();
  const graphics = letters.includes('G');
  const compute = letters.includes('C') || !graphics;
  if (graphics && compute) return 'compute+graphics';
  return graphics ? 'graphics' : 'compute';
}

function idOf(text: string | undefined): number | null {
  const cell = parseCount(text ?? '');
  return cell.ok ? cell.value : null;
}

function noteDropped(
  count: number,
  gpuUuid: string,
  problems: SampleProblem[],
): void {
  if (count <= 0) return;
  problems.push({
    gpuUuid,
    kind: 'process_unattributed',
    message: `${count} process entr${count === 1 ? 'y has' : 'ies have'} no usable pid and ${count === 1 ? 'is' : 'are'} left out`,
  });
}

function noteUnknownMemory(
  kept: readonly XmlProcess[],
  entries: readonly XmlNode[],
  gpuUuid: string,
  problems: SampleProblem[],
): void {
  const unknown = kept.filter((p) => p.process.usedBytes === null).length;
  if (unknown === 0) return;
  const sample = entries
    .map((e) => textAt(e, ['used_memory']))
    .find((t) => t !== undefined && !/\d/.test(t));
  problems.push({
    gpuUuid,
    kind: 'process_memory_unknown',
    message: `per-process memory is unknown for ${unknown} process(es) (used_memory "${sample ?? ''}"): Windows WDDM and some containers cannot attribute VRAM to processes; use the GPU's used memory`,
  });
}

/** A MIG device of a GPU and the instance ids that identify it. */
export interface MigDevice {
  gpu: RawGpu;
  gpuInstanceId: number | null;
  computeInstanceId: number | null;
}

/**
 * The MIG device a process runs in: same GPU and compute instance, else
 * the first device of its GPU instance (compute instances of one GPU
 * instance share its memory); `null` for a process outside MIG.
 */
export function migDeviceOf(
  devices: readonly MigDevice[],
  process: XmlProcess,
): MigDevice | null {
  if (process.gpuInstanceId === null) return null;
  const sameGi = devices.filter(
    (d) => d.gpuInstanceId === process.gpuInstanceId,
  );
  const exact = sameGi.find(
    (d) => d.computeInstanceId === process.computeInstanceId,
  );
  return exact ?? sameGi[0] ?? null;
}

/**
 * Builds one entry per `<mig_device>`. nvidia-smi XML gives MIG devices no
 * UUID, so each is named `MIG-<GPU uuid>/<GI>/<CI>` (the form older drivers
 * printed) and says so in a problem. Utilization, temperature and power
 * are per GPU and stay `null` on the MIG device.
 */
export function buildMigDevices(
  gpu: XmlNode,
  parent: RawGpu,
  problems: SampleProblem[],
): MigDevice[] {
  return listOf(childOf(gpu, 'mig_devices'), 'mig_device').map((node) =>
    buildMigDevice(node, parent, problems),
  );
}

function buildMigDevice(
  node: XmlNode,
  parent: RawGpu,
  problems: SampleProblem[],
): MigDevice {
  const gi = idOf(textAt(node, ['gpu_instance_id']));
  const ci = idOf(textAt(node, ['compute_instance_id']));
  const uuid = `MIG-${parent.uuid}/${gi ?? '?'}/${ci ?? '?'}`;
  const memory = (name: string) => textAt(node, ['fb_memory_usage', name]);
  const texts: Partial<Record<SmiGpuField, string | undefined>> = {
    uuid,
    name: `${parent.name ?? 'GPU'} MIG GI ${gi ?? '?'} CI ${ci ?? '?'}`,
    'pci.bus_id': parent.pciBusId ?? undefined,
    'memory.total': memory('total'),
    'memory.used': memory('used'),
    'memory.free': memory('free'),
    'memory.reserved': memory('reserved'),
    'mig.mode.current': 'Enabled',
  };
  problems.push({
    gpuUuid: uuid,
    kind: 'mig_uuid_synthesized',
    message: `nvidia-smi -q -x gives no UUID for MIG device GI ${gi} CI ${ci} of ${parent.uuid}; it is called ${uuid} here`,
  });

  const lookup = (field: SmiGpuField) => {
    const text = texts[field];
    return text === undefined ? undefined : { text };
  };
  const mig = buildRawGpu(lookup, parent.index, problems);
  return { gpu: mig, gpuInstanceId: gi, computeInstanceId: ci };
}
