/**
 * Builds a {@link RawGpu} from nvidia-smi fields, whatever format they came
 * in: the CSV and XML readers each supply a lookup from a field name (the
 * `--query-gpu` name, e.g. `memory.used`) to its raw text. Every value the
 * output cannot give is `null` with one problem saying why. Pure.
 */
import type { SampleProblem } from '../../../shared/src/snapshot.ts';
import type { RawGpu, RawProcess } from './source.ts';
import {
  describeStatus,
  parseCelsius,
  parseMemoryBytes,
  parsePercent,
  parseText,
  parseWatts,
  problemKindOf,
  readStatus,
} from './smi-values.ts';
import type { SmiCell } from './smi-values.ts';

/**
 * Raw text of a field, `undefined` when the output lacks it. `unit` is the
 * unit a CSV header gave (`memory.used [MiB]`), if any.
 */
export type FieldLookup = (
  field: SmiGpuField,
) => { text: string; unit?: string } | undefined;

/** The `--query-gpu` names gpuwarden reads. */
export type SmiGpuField =
  | 'uuid'
  | 'name'
  | 'pci.bus_id'
  | 'memory.total'
  | 'memory.used'
  | 'memory.free'
  | 'memory.reserved'
  | 'utilization.gpu'
  | 'utilization.memory'
  | 'temperature.gpu'
  | 'power.draw'
  | 'mig.mode.current';

/** Collects problems of one sample; the sample's `problems` array. */
export type ProblemList = SampleProblem[];

/** Builds one GPU; `index` is its position in the output. */
export function buildRawGpu(
  lookup: FieldLookup,
  index: number,
  problems: ProblemList,
  processes: RawProcess[] = [],
): RawGpu {
  const uuid = readUuid(lookup, index, problems);
  const cell = (field: SmiGpuField, parse: (t: string) => SmiCell) =>
    readCell(lookup, field, parse, uuid, problems);
  const memory = (field: SmiGpuField) =>
    cell(field, (text) => parseMemoryBytes(text, lookup(field)?.unit));

  return {
    index,
    uuid,
    name: parseText(lookup('name')?.text),
    pciBusId: parseText(lookup('pci.bus_id')?.text),
    memory: {
      totalBytes: memory('memory.total'),
      usedBytes: memory('memory.used'),
      freeBytes: memory('memory.free'),
      reservedBytes: memory('memory.reserved'),
    },
    utilizationPercent: {
      gpu: cell('utilization.gpu', parsePercent),
      memory: cell('utilization.memory', parsePercent),
    },
    temperatureC: cell('temperature.gpu', parseCelsius),
    powerWatts: cell('power.draw', parseWatts),
    migEnabled: readMig(lookup, uuid, problems),
    processes,
  };
}

function readUuid(
  lookup: FieldLookup,
  index: number,
  problems: ProblemList,
): string {
  const uuid = parseText(lookup('uuid')?.text);
  if (uuid) return uuid;
  const stand = `unknown-gpu-${index}`;
  problems.push({
    gpuUuid: stand,
    kind: 'uuid_missing',
    message: `GPU ${index} has no UUID in this output; it is called ${stand} here (query uuid to key GPUs reliably)`,
  });
  return stand;
}

function readCell(
  lookup: FieldLookup,
  field: SmiGpuField,
  parse: (text: string) => SmiCell,
  gpuUuid: string,
  problems: ProblemList,
): number | null {
  const found = lookup(field);
  if (found === undefined) {
    problems.push({
      gpuUuid,
      kind: 'field_missing',
      message: `${field} is not in this nvidia-smi output`,
    });
    return null;
  }
  const cell = parse(found.text);
  if (cell.ok) return cell.value;
  problems.push({
    gpuUuid,
    kind: problemKindOf(cell.status),
    message: describeStatus(field, cell.status, cell.raw),
  });
  return null;
}

/**
 * MIG mode: `Enabled` → true, `Disabled` → false. `N/A`/`Not Supported`
 * mean the GPU has no MIG, so false without a problem; other statuses
 * (permissions, errors) are unknown.
 */
function readMig(
  lookup: FieldLookup,
  gpuUuid: string,
  problems: ProblemList,
): boolean | null {
  const text = lookup('mig.mode.current')?.text;
  if (text === undefined) {
    problems.push({
      gpuUuid,
      kind: 'field_missing',
      message: 'mig.mode.current is not in this nvidia-smi output',
    });
    return null;
  }
  const trimmed = text.trim().toLowerCase();
  if (trimmed === 'enabled') return true;
  if (trimmed === 'disabled') return false;
  const status = readStatus(trimmed) ?? 'malformed';
  if (status === 'not_available' || status === 'not_supported') return false;
  problems.push({
    gpuUuid,
    kind: problemKindOf(status),
    message: describeStatus('mig.mode.current', status, text.trim()),
  });
  return null;
}
