/**
 * Parsers of `nvidia-smi --query-gpu=… --format=csv` and
 * `--query-compute-apps=… --format=csv`, driven by the header names (any
 * order, any extra columns, with or without units). Memory is bytes;
 * values nvidia-smi cannot give are `null` with one problem each. Pure.
 */
import { err, ok } from '../../../shared/src/result.ts';
import type { Result } from '../../../shared/src/result.ts';
import type { SampleProblem } from '../../../shared/src/snapshot.ts';
import type { RawProcess, SourceFailure, SourceSample } from './source.ts';
import { buildRawGpu } from './smi-gpu.ts';
import type { FieldLookup, SmiGpuField } from './smi-gpu.ts';
import { columnIndex, isComputeAppsTable, splitCsv } from './smi-csv-split.ts';
import type { CsvColumn, CsvTable } from './smi-csv-split.ts';
import {
  parseCount,
  parseMemoryBytes,
  parseText,
  readStatus,
} from './smi-values.ts';

/** Options of the CSV parsers. */
export interface SmiCsvOptions {
  /** The queried fields, for `noheader` output; omit when it has a header. */
  fields?: readonly string[];
}

/** Column names per field, in order of preference (aliases, fallbacks). */
const GPU_FIELD_COLUMNS: Readonly<Record<SmiGpuField, readonly string[]>> = {
  uuid: ['uuid', 'gpu_uuid'],
  name: ['name', 'gpu_name'],
  'pci.bus_id': ['pci.bus_id', 'gpu_bus_id'],
  'memory.total': ['memory.total'],
  'memory.used': ['memory.used'],
  'memory.free': ['memory.free'],
  'memory.reserved': ['memory.reserved'],
  'utilization.gpu': ['utilization.gpu'],
  'utilization.memory': ['utilization.memory'],
  'temperature.gpu': ['temperature.gpu'],
  'power.draw': ['power.draw', 'power.draw.instant', 'power.draw.average'],
  'mig.mode.current': ['mig.mode.current'],
};

/**
 * Parses `--query-gpu` CSV into a sample with one GPU per row and no
 * processes. Fails on compute-apps CSV, on output without a header (unless
 * `fields` is given) and when the rows disagree with the `count` column.
 */
export function parseQueryGpuCsv(
  text: string,
  options: SmiCsvOptions = {},
): Result<SourceSample, SourceFailure> {
  const split = splitCsv(text, options.fields);
  if (!split.ok) return err(split.error);
  const { table } = split;
  if (isComputeAppsTable(table.columns)) {
    return err(wrongCsv('--query-compute-apps', '--query-gpu'));
  }

  const problems: SampleProblem[] = [];
  const rows = keepWellFormedRows(table, problems);
  const indexAt = columnIndex(table.columns, ['index']);
  const gpus = rows.map((row, position) => {
    const index = indexAt >= 0 ? parseCount(row[indexAt] ?? '') : null;
    const gpuIndex = index?.ok ? index.value : position;
    return buildRawGpu(lookupIn(table.columns, row), gpuIndex, problems);
  });

  const countFailure = checkCount(table, rows.length);
  if (countFailure) return err(countFailure);
  if (gpus.length === 0) problems.push(noGpusProblem());
  const driverVersion = readDriverVersion(table.columns, rows[0]);
  return ok({ source: 'nvidia-smi', driverVersion, gpus, problems });
}

/** A `--query-compute-apps` row: one process on one GPU. */
export interface ComputeAppRow {
  gpuUuid: string;
  /** `gpu_name` / `gpu_bus_id` columns, when queried. */
  gpuName: string | null;
  gpuBusId: string | null;
  process: RawProcess;
}

/** What `--query-compute-apps` says. */
export interface ComputeApps {
  rows: ComputeAppRow[];
  /** GPUs in order of first appearance (also those whose rows were cut). */
  gpuUuids: string[];
  problems: SampleProblem[];
}

/**
 * Parses `--query-compute-apps` CSV. Needs a `gpu_uuid` column; rows whose
 * pid is not a number are left out and counted in one problem per GPU.
 * Memory `[N/A]` (Windows WDDM) is `null`, never 0.
 */
export function parseComputeAppsCsv(
  text: string,
  options: SmiCsvOptions = {},
): Result<ComputeApps, SourceFailure> {
  const split = splitCsv(text, options.fields);
  if (!split.ok) return err(split.error);
  const { table } = split;
  const at = appColumns(table.columns);
  if (at.uuid < 0) {
    if (!isComputeAppsTable(table.columns)) {
      return err(wrongCsv('--query-gpu', '--query-compute-apps'));
    }
    return err(missingUuidColumn());
  }

  const apps: ComputeApps = { rows: [], gpuUuids: [], problems: [] };
  const notes: AppNotes = { skipped: new Map(), memory: new Map() };
  for (const row of keepWellFormedRows(table, apps.problems)) {
    const gpuUuid = row[at.uuid] ?? '';
    if (!apps.gpuUuids.includes(gpuUuid)) apps.gpuUuids.push(gpuUuid);
    const app = readAppRow(table.columns, row, at, notes);
    if (app) apps.rows.push(app);
  }

  reportAppProblems(apps.problems, notes);
  return ok(apps);
}

/** Per-GPU notes gathered over the rows, reported once per GPU. */
interface AppNotes {
  skipped: Map<string, { count: number; reason: string }>;
  memory: Map<string, string>;
}

function readAppRow(
  columns: readonly CsvColumn[],
  row: readonly string[],
  at: ReturnType<typeof appColumns>,
  notes: AppNotes,
): ComputeAppRow | null {
  const gpuUuid = row[at.uuid] ?? '';
  const pid = at.pid < 0 ? null : parseCount(row[at.pid] ?? '');
  if (!pid?.ok) {
    const reason = at.pid < 0 ? 'no pid column' : `pid "${row[at.pid]}"`;
    const seen = notes.skipped.get(gpuUuid);
    notes.skipped.set(gpuUuid, { count: (seen?.count ?? 0) + 1, reason });
    return null;
  }

  const used = readProcessMemory(columns, row, at.memory);
  if (used.note) notes.memory.set(gpuUuid, used.note);
  return {
    gpuUuid,
    gpuName: at.gpuName < 0 ? null : parseText(row[at.gpuName]),
    gpuBusId: at.busId < 0 ? null : parseText(row[at.busId]),
    process: {
      pid: pid.value,
      type: 'compute',
      usedBytes: used.value,
      name: at.name < 0 ? null : parseText(row[at.name]),
    },
  };
}

function appColumns(columns: readonly CsvColumn[]) {
  return {
    uuid: columnIndex(columns, ['gpu_uuid', 'uuid']),
    pid: columnIndex(columns, ['pid']),
    name: columnIndex(columns, ['process_name', 'name']),
    memory: columnIndex(columns, ['used_gpu_memory', 'used_memory']),
    gpuName: columnIndex(columns, ['gpu_name']),
    busId: columnIndex(columns, ['gpu_bus_id']),
  };
}

function readProcessMemory(
  columns: readonly CsvColumn[],
  row: readonly string[],
  at: number,
): { value: number | null; note?: string } {
  if (at < 0) {
    return { value: null, note: 'used_gpu_memory is not in this output' };
  }
  const cell = parseMemoryBytes(row[at] ?? '', columns[at]?.unit);
  if (cell.ok) return { value: cell.value };
  return {
    value: null,
    note: `per-process memory is unknown (used_gpu_memory "${cell.raw}"): Windows WDDM and some containers cannot attribute VRAM to processes; use the GPU's used memory`,
  };
}

function reportAppProblems(problems: SampleProblem[], notes: AppNotes): void {
  for (const [gpuUuid, { count, reason }] of notes.skipped) {
    problems.push({
      gpuUuid,
      kind: 'process_unattributed',
      message: `${count} process row(s) on this GPU have no usable pid (${reason}) and are left out`,
    });
  }
  for (const [gpuUuid, message] of notes.memory) {
    problems.push({ gpuUuid, kind: 'process_memory_unknown', message });
  }
}

/** A lookup of query-gpu fields in one CSV row, with fallback columns. */
function lookupIn(
  columns: readonly CsvColumn[],
  row: readonly string[],
): FieldLookup {
  return (field) => {
    let first: { text: string; unit?: string } | undefined;
    for (const name of GPU_FIELD_COLUMNS[field]) {
      const at = columns.findIndex((c) => c.field === name);
      if (at < 0) continue;
      const found = { text: row[at] ?? '', unit: columns[at]?.unit };
      if (readStatus(found.text) === null) return found;
      first ??= found;
    }
    return first;
  };
}

function keepWellFormedRows(
  table: CsvTable,
  problems: SampleProblem[],
): string[][] {
  const width = table.columns.length;
  const good = table.rows.filter((row) => row.length === width);
  const bad = table.rows.length - good.length;
  if (bad > 0) {
    problems.push({
      kind: 'row_malformed',
      message: `${bad} CSV row(s) do not have the header's ${width} cells and are left out`,
    });
  }
  return good;
}

function checkCount(table: CsvTable, rowCount: number): SourceFailure | null {
  const at = columnIndex(table.columns, ['count']);
  const first = at < 0 ? undefined : table.rows[0]?.[at];
  const count = first === undefined ? null : parseCount(first);
  if (!count?.ok || count.value === rowCount) return null;
  return {
    kind: 'bad_output',
    message: `nvidia-smi reported ${count.value} GPUs but printed ${rowCount} rows; the output is incomplete, sample again`,
    retryable: true,
  };
}

function readDriverVersion(
  columns: readonly CsvColumn[],
  row: readonly string[] | undefined,
): string | null {
  const at = columnIndex(columns, ['driver_version', 'kmd_version']);
  return at < 0 || !row ? null : parseText(row[at]);
}

function wrongCsv(found: string, expected: string): SourceFailure {
  return {
    kind: 'wrong_format',
    message: `this is ${found} CSV, not ${expected} CSV`,
    retryable: false,
  };
}

function missingUuidColumn(): SourceFailure {
  return {
    kind: 'csv_missing_column',
    message:
      'this --query-compute-apps CSV has no gpu_uuid column, so its processes cannot be placed on a GPU: query gpu_uuid,pid,process_name,used_gpu_memory',
    retryable: false,
  };
}

function noGpusProblem(): SampleProblem {
  return {
    kind: 'no_gpus',
    message: 'the --query-gpu output lists no GPU',
  };
}
