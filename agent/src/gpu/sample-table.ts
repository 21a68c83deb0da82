/**
 * The human view of a snapshot for `gpuwarden-agent sample`: one line per
 * GPU with a memory bar (as nvitop and gpustat show it), then the process
 * panel with users, units and commands, then the problems. Anything the
 * GPU or /proc could not tell reads `n/a`, never 0. Pure text writer.
 */
import type {
  GpuProcess,
  GpuSnapshot,
  Snapshot,
} from '../../../shared/src/snapshot.ts';
import { formatBytes } from '../../../shared/src/units.ts';

/** Options of {@link renderSampleTable}. */
export interface SampleTableOptions {
  /** Line width the command column is cut to; default 120. */
  widthColumns?: number;
  /** Width of the memory bar in characters; default 20. */
  barColumns?: number;
}

const NA = 'n/a';
const TYPE_CODES = { compute: 'C', graphics: 'G', 'compute+graphics': 'C+G' };

/** Renders a snapshot as text lines for a terminal, ending in a newline. */
export function renderSampleTable(
  snapshot: Snapshot,
  options: SampleTableOptions = {},
): string {
  const widthColumns = options.widthColumns ?? 120;
  const lines = [
    headerLine(snapshot),
    '',
    ...gpuLines(snapshot.gpus, options.barColumns ?? 20),
    '',
    ...processLines(snapshot.gpus, widthColumns),
  ];
  if (snapshot.problems.length > 0) {
    lines.push('', ...problemLines(snapshot));
  }
  return `${lines.join('\n')}\n`;
}

function headerLine(snapshot: Snapshot): string {
  return [
    `node ${snapshot.node}`,
    formatUtc(snapshot.takenAt, true),
    `source ${snapshot.source}`,
    `driver ${snapshot.driverVersion ?? NA}`,
  ].join('  |  ');
}

function gpuLines(gpus: readonly GpuSnapshot[], barColumns: number) {
  if (gpus.length === 0) return ['no GPUs reported'];
  const rows = gpus.map((gpu) => [
    String(gpu.index),
    gpu.name ?? NA,
    memoryBar(gpu, barColumns),
    `${formatBytes(gpu.memory.usedBytes)} / ${formatBytes(gpu.memory.totalBytes)}`,
    formatBytes(gpu.memory.freeBytes),
    unitOrNa(gpu.utilizationPercent.gpu, '%'),
    unitOrNa(gpu.utilizationPercent.memory, '%'),
    unitOrNa(gpu.temperatureC, '°C'),
    unitOrNa(gpu.powerWatts === null ? null : Math.round(gpu.powerWatts), ' W'),
    gpu.migEnabled === null ? NA : gpu.migEnabled ? 'on' : 'off',
  ]);
  const head = ['GPU', 'NAME', 'MEMORY', 'USED / TOTAL', 'FREE'];
  return columns(
    [[...head, 'UTIL', 'MEM%', 'TEMP', 'POWER', 'MIG'], ...rows],
    'rllrrrrrrl',
  );
}

function memoryBar(gpu: GpuSnapshot, barColumns: number): string {
  const { usedBytes, totalBytes } = gpu.memory;
  if (usedBytes === null || totalBytes === null || totalBytes <= 0) {
    return `[${NA.padStart((barColumns + NA.length) / 2).padEnd(barColumns)}]`;
  }
  const ratio = Math.min(1, Math.max(0, usedBytes / totalBytes));
  const filled = Math.round(ratio * barColumns);
  const percent = `${Math.round(ratio * 100)}%`;
  return `[${'#'.repeat(filled)}${'.'.repeat(barColumns - filled)}] ${percent.padStart(4)}`;
}

function processLines(gpus: readonly GpuSnapshot[], widthColumns: number) {
  const rows = gpus.flatMap((gpu) =>
    gpu.processes.map((p) => processRow(gpu, p)),
  );
  if (rows.length === 0) return ['PROCESSES', 'no processes on any GPU'];
  const head = ['GPU', 'PID', 'USER', 'TYPE', 'VRAM', 'STARTED (UTC)'];
  const table = columns(
    [[...head, 'UNIT / CONTAINER', 'COMMAND'], ...rows],
    'rrllrlll',
  );
  return ['PROCESSES', ...table.map((line) => cut(line, widthColumns))];
}

function processRow(gpu: GpuSnapshot, p: GpuProcess): string[] {
  const command = p.command ?? p.name ?? NA;
  const marks = [
    p.state === 'Z' ? '[zombie]' : null,
    p.resolved === false ? '[not in /proc]' : null,
  ].filter((m) => m !== null);
  return [
    String(gpu.index),
    String(p.pid),
    p.user ?? NA,
    TYPE_CODES[p.type],
    formatBytes(p.usedBytes),
    p.startedAt === null ? NA : formatUtc(p.startedAt, false),
    owner(p),
    [...marks, command].join(' '),
  ];
}

function owner(p: GpuProcess): string {
  if (p.container) return `container ${p.container.slice(0, 12)}`;
  return p.unit ?? NA;
}

function problemLines(snapshot: Snapshot): string[] {
  const indexOf = new Map(snapshot.gpus.map((g) => [g.uuid, g.index]));
  return [
    'PROBLEMS',
    ...snapshot.problems.map((problem) => {
      const index =
        problem.gpuUuid === undefined
          ? undefined
          : indexOf.get(problem.gpuUuid);
      const where = index === undefined ? '' : `GPU ${index}: `;
      return `  ${where}${problem.message} [${problem.kind}]`;
    }),
  ];
}

/** Pads cells to column widths; `align` has `l` or `r` per column. */
function columns(rows: readonly string[][], align: string): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => {
        const width = i === row.length - 1 ? 0 : (widths[i] ?? 0);
        return align[i] === 'r' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd(),
  );
}

function cut(line: string, widthColumns: number): string {
  return line.length <= widthColumns
    ? line
    : `${line.slice(0, widthColumns - 1)}…`;
}

function unitOrNa(value: number | null, unit: string): string {
  return value === null ? NA : `${value}${unit}`;
}

function formatUtc(iso: string, withSeconds: boolean): string {
  const text = iso.replace('T', ' ').slice(0, withSeconds ? 19 : 16);
  return withSeconds ? `${text} UTC` : text;
}
