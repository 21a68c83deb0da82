/**
 * Parser of `nvidia-smi -q -x` (schemas v9 to v13). Fields are found by
 * element name through ordered fallback paths, so schema drift (power moved
 * to `<gpu_power_readings>` in v12, split into average/instant in 570+)
 * does not lose them; indentation, padding and case do not matter. The
 * DOCTYPE is removed before parsing and entities are never expanded: the
 * DTD is not shipped with the output and must never be fetched. Pure.
 */
import { XMLParser } from 'fast-xml-parser';
import { err, ok } from '../../../shared/src/result.ts';
import type { Result } from '../../../shared/src/result.ts';
import type { SampleProblem } from '../../../shared/src/snapshot.ts';
import type { RawGpu, SourceFailure, SourceSample } from './source.ts';
import { buildRawGpu } from './smi-gpu.ts';
import type { FieldLookup, SmiGpuField } from './smi-gpu.ts';
import { parseText, readStatus } from './smi-values.ts';
import { listOf, textAt } from './smi-xml-node.ts';
import type { XmlNode } from './smi-xml-node.ts';
import {
  buildMigDevices,
  migDeviceOf,
  readXmlProcesses,
} from './smi-xml-procs.ts';

/** Element paths per field, in order of preference. */
const GPU_FIELD_PATHS: Readonly<Record<SmiGpuField, readonly string[][]>> = {
  uuid: [['uuid']],
  name: [['product_name']],
  'pci.bus_id': [['pci', 'pci_bus_id'], ['@_id']],
  'memory.total': [['fb_memory_usage', 'total']],
  'memory.used': [['fb_memory_usage', 'used']],
  'memory.free': [['fb_memory_usage', 'free']],
  'memory.reserved': [['fb_memory_usage', 'reserved']],
  'utilization.gpu': [['utilization', 'gpu_util']],
  'utilization.memory': [['utilization', 'memory_util']],
  'temperature.gpu': [['temperature', 'gpu_temp']],
  'power.draw': [
    ['gpu_power_readings', 'power_draw'],
    ['gpu_power_readings', 'instant_power_draw'],
    ['gpu_power_readings', 'average_power_draw'],
    ['power_readings', 'power_draw'],
    ['power_readings', 'instant_power_draw'],
    ['power_readings', 'average_power_draw'],
  ],
  'mig.mode.current': [['mig_mode', 'current_mig']],
};

/**
 * Parses `nvidia-smi -q -x` output. Fails (`bad_output`) when the text is
 * not an `<nvidia_smi_log>` document or was cut off; a GPU or field that
 * is missing or unreadable is `null` with a problem, never a failure.
 */
export function parseSmiXml(text: string): Result<SourceSample, SourceFailure> {
  const root = readRoot(text);
  if (!root.ok) return root;

  const problems: SampleProblem[] = [];
  const gpus: RawGpu[] = [];
  listOf(root.value, 'gpu').forEach((node, index) => {
    gpus.push(...readGpu(node, index, problems));
  });
  checkAttachedCount(root.value, gpus, problems);
  const driverVersion =
    parseText(textAt(root.value, ['driver_version'])) ??
    parseText(textAt(root.value, ['kmd_version']));
  return ok({ source: 'nvidia-smi', driverVersion, gpus, problems });
}

function readRoot(text: string): Result<XmlNode, SourceFailure> {
  const body = text
    .replace(/\r/g, '')
    .replace(/<!DOCTYPE[^[>]*(\[[\s\S]*?\])?\s*>/i, '');
  if (!/<nvidia_smi_log[\s>]/i.test(body)) {
    return err(badXml('it has no <nvidia_smi_log> element'));
  }
  if (!/<\/nvidia_smi_log\s*>/i.test(body)) {
    return err(badXml('it ends before </nvidia_smi_log> (cut off)'));
  }
  try {
    const doc = newParser().parse(body) as XmlNode;
    const [root] = listOf(doc, 'nvidia_smi_log');
    if (root !== undefined) return ok(root);
    return err(badXml('the <nvidia_smi_log> element is not the root'));
  } catch (error) {
    return err(badXml(`the XML is malformed (${String(error)})`));
  }
}

function newParser(): XMLParser {
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    processEntities: false,
    htmlEntities: false,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
    transformTagName: (name) => name.toLowerCase(),
    isArray: (name) => ['gpu', 'process_info', 'mig_device'].includes(name),
    // The clock and error tables are most of the output and none of what
    // is read here: kept as raw text, parsing gets about 5x faster.
    stopNodes: [
      '*.supported_clocks',
      '*.ecc_errors',
      '*.clocks_event_reasons',
      '*.clocks_throttle_reasons',
    ],
  });
}

function readGpu(
  node: XmlNode,
  index: number,
  problems: SampleProblem[],
): RawGpu[] {
  const lookup = lookupIn(node);
  const gpu = buildRawGpu(lookup, index, problems);
  const processes = readXmlProcesses(node, gpu.uuid, problems);
  const migDevices = buildMigDevices(node, gpu, problems);
  for (const process of processes) {
    const home = migDeviceOf(migDevices, process)?.gpu ?? gpu;
    home.processes.push(process.process);
  }
  return [gpu, ...migDevices.map((d) => d.gpu)];
}

/** A lookup of query-gpu fields in one `<gpu>` element, with fallbacks. */
export function lookupIn(node: XmlNode): FieldLookup {
  return (field) => {
    let first: string | undefined;
    for (const path of GPU_FIELD_PATHS[field]) {
      const text = textAt(node, path);
      if (text === undefined) continue;
      if (readStatus(text) === null) return { text };
      first ??= text;
    }
    return first === undefined ? undefined : { text: first };
  };
}

function checkAttachedCount(
  root: XmlNode,
  gpus: readonly RawGpu[],
  problems: SampleProblem[],
): void {
  const attached = Number(textAt(root, ['attached_gpus']) ?? NaN);
  const physical = gpus.filter((g) => !g.uuid.startsWith('MIG-')).length;
  if (!Number.isInteger(attached) || attached === physical) return;
  problems.push({
    kind: 'gpu_count_mismatch',
    message: `nvidia-smi says ${attached} GPUs are attached but describes ${physical}; the others are not reported`,
  });
}

function badXml(why: string): SourceFailure {
  return {
    kind: 'bad_output',
    message: `nvidia-smi -q -x output cannot be read: ${why}; run nvidia-smi -q -x by hand to check it`,
    retryable: true,
  };
}
