/**
 * Splitting of nvidia-smi `--format=csv` output into header and rows.
 * nvidia-smi separates cells with `, ` and never quotes, so a process name
 * holding `, ` splits into too many cells: the surplus is given back to the
 * free-text column (`process_name`). The header (`memory.used [MiB]`) names
 * the fields and their units; it survives `nounits`. Pure.
 */
import type { SourceFailure } from './source.ts';

/** One header cell: the field name (lower case) and its `[unit]`, if any. */
export interface CsvColumn {
  field: string;
  unit?: string;
}

/** A CSV split into columns and rows of raw cell text (trimmed). */
export interface CsvTable {
  columns: CsvColumn[];
  rows: string[][];
  /** False when the columns came from the caller (`noheader` output). */
  hadHeader: boolean;
}

/** Fields only `--query-compute-apps` has. */
export const COMPUTE_APPS_FIELDS: ReadonlySet<string> = new Set([
  'pid',
  'process_name',
  'used_gpu_memory',
  'used_memory',
  'gpu_uuid',
  'gpu_name',
  'gpu_bus_id',
  'gpu_serial',
]);

/** Fields that mark a line as a header (besides any dotted name). */
const HEADER_MARKERS: ReadonlySet<string> = new Set([
  ...COMPUTE_APPS_FIELDS,
  'index',
  'uuid',
  'name',
  'count',
  'timestamp',
  'driver_version',
  'kmd_version',
  'pstate',
  'serial',
]);

const FREE_TEXT_FIELDS = ['process_name', 'name', 'gpu_name'];

const HEADER_CELL = /^([A-Za-z_][\w.]*)\s*(?:\[([^\]]*)\])?$/;

/**
 * Reads a header line; `null` when the line is data. A header is a line
 * whose every cell is a field name with an optional `[unit]`, at least one
 * of them a known or dotted (`memory.used`) nvidia-smi field.
 */
export function parseCsvHeader(line: string): CsvColumn[] | null {
  const cells = line.split(',').map((cell) => cell.trim());
  const columns: CsvColumn[] = [];
  for (const cell of cells) {
    const match = HEADER_CELL.exec(cell);
    if (!match?.[1]) return null;
    const field = match[1].toLowerCase();
    const unit = match[2]?.trim();
    columns.push(unit ? { field, unit } : { field });
  }
  const known = columns.some(
    (c) => c.field.includes('.') || HEADER_MARKERS.has(c.field),
  );
  return known ? columns : null;
}

/**
 * Splits CSV text. With `fields` the text has no header line and those
 * are its columns (what the live runner asked for); without them the
 * first non-empty line must be a header.
 */
export function splitCsv(
  text: string,
  fields?: readonly string[],
): { ok: true; table: CsvTable } | { ok: false; error: SourceFailure } {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const header = lines[0] === undefined ? null : parseCsvHeader(lines[0]);
  if (fields === undefined && header === null) {
    return { ok: false, error: noHeaderFailure(lines.length) };
  }
  const hadHeader = header !== null;
  const columns =
    header ?? (fields ?? []).map((f) => parseCsvHeader(f)?.[0] ?? { field: f });
  const body = hadHeader ? lines.slice(1) : lines;
  const rows = body.map((line) => splitRow(line, columns));
  return { ok: true, table: { columns, rows, hadHeader } };
}

function noHeaderFailure(lineCount: number): SourceFailure {
  return {
    kind: lineCount === 0 ? 'empty_output' : 'csv_without_header',
    message:
      lineCount === 0
        ? 'nvidia-smi printed nothing; run it by hand to see why'
        : 'this CSV has no header line, so its columns are unknown: save it with --format=csv or --format=csv,nounits (not noheader)',
    retryable: false,
  };
}

/** Splits a row; surplus cells are joined back into the free-text column. */
function splitRow(line: string, columns: readonly CsvColumn[]): string[] {
  const pieces = line.split(',');
  const surplus = pieces.length - columns.length;
  const at = columns.findIndex((c) => FREE_TEXT_FIELDS.includes(c.field));
  if (surplus > 0 && at >= 0) {
    const joined = pieces.slice(at, at + surplus + 1).join(',');
    pieces.splice(at, surplus + 1, joined);
  }
  return pieces.map((piece) => piece.trim());
}

/** Index of the first of `names` among the columns, or -1. */
export function columnIndex(
  columns: readonly CsvColumn[],
  names: readonly string[],
): number {
  for (const name of names) {
    const at = columns.findIndex((c) => c.field === name);
    if (at >= 0) return at;
  }
  return -1;
}

/** True when the columns are those of `--query-compute-apps`. */
export function isComputeAppsTable(columns: readonly CsvColumn[]): boolean {
  return columns.some((c) => COMPUTE_APPS_FIELDS.has(c.field));
}
