/**
 * Pure figures of the GPU check (docs/gpu-check.md): the memory comparison
 * between the two sampling sources and nvidia-smi, where the offender shows
 * up in a snapshot, the reservation that the offender breaks, the agent
 * config the check runs with, and what `check --json` says. No I/O.
 */
import type { CheckReport } from '../../agent/src/guard/check-report.ts';
import type { Snapshot } from '../../shared/src/snapshot.ts';

/** Bytes in a MiB (nvidia-smi's unit). */
export const MIB_BYTES = 2 ** 20;

/**
 * Largest difference, in MiB, that the comparison calls agreement: totals
 * differ only by nvidia-smi's rounding to MiB; used and free move a little
 * between two readings taken a second apart.
 */
export const AGREE_TOTAL_MIB = 1;
/** See {@link AGREE_TOTAL_MIB}; for used and free memory. */
export const AGREE_USED_MIB = 64;

/** One line of `nvidia-smi --query-gpu=index,memory.total,memory.used,memory.free --format=csv,noheader,nounits`. */
export interface SmiMemoryRow {
  index: number;
  totalMib: number | null;
  usedMib: number | null;
  freeMib: number | null;
}

/** Parses the query above; `[N/A]` and other non-numbers become `null`. */
export function parseSmiMemoryCsv(text: string): SmiMemoryRow[] {
  const number = (cell: string | undefined) => {
    const value = Number(cell?.trim());
    return cell !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(cell)
      ? value
      : null;
  };
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.split(','))
    .filter((cells) => number(cells[0]) !== null)
    .map((cells) => ({
      index: number(cells[0]) ?? -1,
      totalMib: number(cells[1]),
      usedMib: number(cells[2]),
      freeMib: number(cells[3]),
    }));
}

/** The comparison as text lines, and whether every figure agrees. */
export interface MemoryComparison {
  lines: string[];
  agrees: boolean;
}

/**
 * Compares total, used and free memory per GPU between the NVML sample,
 * the nvidia-smi sample and nvidia-smi's own figures; a difference beyond
 * {@link AGREE_TOTAL_MIB} / {@link AGREE_USED_MIB} is marked `!`.
 */
export function compareMemory(
  nvml: Snapshot,
  smiSource: Snapshot,
  smi: SmiMemoryRow[],
): MemoryComparison {
  const lines = [
    'GPU  FIELD         NVML (MiB)  NVIDIA-SMI SOURCE (MiB)  nvidia-smi (MiB)  NVML-SOURCE  NVML-nvidia-smi',
  ];
  let agrees = true;
  for (const gpu of nvml.gpus) {
    const other = smiSource.gpus.find((g) => g.uuid === gpu.uuid);
    const row = smi.find((r) => r.index === gpu.index);
    for (const field of ['total', 'used', 'free'] as const) {
      const a = mib(gpu.memory[`${field}Bytes`]);
      const b = mib(other?.memory[`${field}Bytes`] ?? null);
      const c = row?.[`${field}Mib`] ?? null;
      const limit = field === 'total' ? AGREE_TOTAL_MIB : AGREE_USED_MIB;
      const d1 = diff(a, b);
      const d2 = diff(a, c);
      const bad = [d1, d2].some((d) => d === null || Math.abs(d) > limit);
      agrees &&= !bad;
      lines.push(
        `${pad(gpu.index, 3)}  ${field.padEnd(6)}${bad ? '!' : ' '}     ${pad(a, 10)}  ${pad(b, 23)}  ${pad(c, 16)}  ${pad(d1, 11)}  ${pad(d2, 15)}`,
      );
    }
  }
  return { lines, agrees };
}

function mib(bytes: number | null | undefined): number | null {
  return bytes == null ? null : Math.floor(bytes / MIB_BYTES);
}

function diff(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a - b;
}

function pad(value: number | null, width: number): string {
  return (value === null ? 'n/a' : String(value)).padStart(width);
}

/** Where the offender holds memory, as one snapshot shows it. */
export interface OffenderSighting {
  gpuUuid: string;
  gpuIndex: number;
  usedBytes: number;
  freeBytes: number | null;
  totalBytes: number | null;
}

/**
 * The GPU on which `pid` holds at least `minBytes`; `null` when it does
 * not (yet). The largest holding wins when it shows on several.
 */
export function findOffender(
  snapshot: Snapshot,
  pid: number,
  minBytes: number,
): OffenderSighting | null {
  const sightings = snapshot.gpus.flatMap((gpu) =>
    gpu.processes
      .filter((p) => p.pid === pid && (p.usedBytes ?? 0) >= minBytes)
      .map((p) => ({
        gpuUuid: gpu.uuid,
        gpuIndex: gpu.index,
        usedBytes: p.usedBytes ?? 0,
        freeBytes: gpu.memory.freeBytes,
        totalBytes: gpu.memory.totalBytes,
      })),
  );
  sightings.sort((a, b) => b.usedBytes - a.usedBytes);
  return sightings[0] ?? null;
}

/**
 * Why an offender may never show: the agent cannot see the driver's pids
 * (another PID namespace), named from the snapshot's problems; else null.
 */
export function invisibleReason(snapshot: Snapshot): string | null {
  const problem = snapshot.problems.find((p) => p.kind === 'pid_unresolved');
  return problem ? problem.message : null;
}

/**
 * The reservation that the offender breaks by half its memory: with
 * `availableBytes` = V (what the reserved model could hold now, from
 * `check`), reserve V + A/2 gives a deficit of A/2 while the offender
 * runs, and a surplus of A/2 once its memory is back.
 */
export function reserveFor(
  availableBytes: number,
  offenderBytes: number,
): number {
  return Math.max(MIB_BYTES, availableBytes + Math.floor(offenderBytes / 2));
}

/** What the generated agent config says. */
export interface CheckConfigOptions {
  gpuUuid: string;
  reserveBytes: number;
  user: string;
  /** Smaller processes are never victims: the offender's size, roughly. */
  minVictimBytes: number;
  stateDir: string;
  nvmlLibraryPath: string;
  nvidiaSmiPath: string;
}

/**
 * The agent config of the check: `enforce` on the offender's GPU, only
 * the user's own processes of about the offender's size eligible, short
 * grace periods, and a kill-switch file and audit log inside the check's
 * own folder.
 */
export function renderAgentConfig(o: CheckConfigOptions): string {
  return `# Generated by scripts/gpu-check.sh; see docs/gpu-check.md.
node: gpu-check
stateDir: ${JSON.stringify(o.stateDir)}
logLevel: warn
sampling:
  source: nvml
  interval: 500ms
  nvmlLibraryPath: ${JSON.stringify(o.nvmlLibraryPath)}
  nvidiaSmiPath: ${JSON.stringify(o.nvidiaSmiPath)}
guard:
  mode: enforce
  killSwitchFile: ${JSON.stringify(`${o.stateDir}/disable-enforce`)}
  auditFile: guard-audit.jsonl
  reservations:
    - gpu: ${o.gpuUuid}
      reserve: ${o.reserveBytes}
  eligible:
    users: [${JSON.stringify(o.user)}]
    minVictim: ${o.minVictimBytes}
    containers: kill
  minReclaim: 64MiB
  grace:
    soft: 1s
    hard: 2s
    hardSamples: 2
  kill:
    termGrace: 3s
    killGrace: 5s
    releaseTimeout: 30s
    pollInterval: 100ms
    cooldown: 1s
`;
}

/** What `check --json` says about the offender's GPU. */
export interface CheckVerdict {
  wouldDo: string;
  summary: string;
  deficitBytes: number | null;
  availableBytes: number | null;
  victims: number[];
  /** Null when the verdict is a kill of exactly the offender. */
  problem: string | null;
}

/** Reads the verdict for `gpuUuid` and checks it names only `offenderPid`. */
export function readVerdict(
  report: CheckReport,
  gpuUuid: string,
  offenderPid: number,
): CheckVerdict {
  const gpu = report.gpus.find((g) => g.gpuUuid === gpuUuid);
  const victims = (gpu?.processes ?? [])
    .filter((p) => p.role === 'victim')
    .map((p) => p.pid);
  const verdict = {
    wouldDo: gpu?.wouldDo ?? 'unknown',
    summary: gpu?.summary ?? 'the reserved GPU is not in the snapshot',
    deficitBytes: gpu?.math?.deficitBytes ?? null,
    availableBytes: gpu?.math?.availableBytes ?? null,
    victims,
  };
  const offender = gpu?.processes.find((p) => p.pid === offenderPid);
  let problem: string | null = null;
  if (!gpu) problem = `GPU ${gpuUuid} is not in the check's snapshot`;
  else if (verdict.wouldDo !== 'kill') {
    problem = `check would ${verdict.wouldDo}, not kill: ${verdict.summary}`;
  } else if (victims.length !== 1 || victims[0] !== offenderPid) {
    problem = `check chose pid(s) ${victims.join(', ') || 'none'}, not the offender ${offenderPid}${offender ? ` (${offender.role}: ${offender.reason})` : ''}`;
  }
  return { ...verdict, problem };
}
