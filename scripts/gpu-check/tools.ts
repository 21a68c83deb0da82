/**
 * Small commands `scripts/gpu-check.sh` runs on the JSON the agent prints
 * (docs/gpu-check.md). Each prints figures on stdout; when the check must
 * stop, it prints one line saying why on stderr and exits 1.
 *
 *   tools.ts compare NVML_JSON SMI_SOURCE_JSON SMI_CSV
 *   tools.ts find-offender SAMPLE_JSON PID MIN_BYTES
 *   tools.ts config OUT --gpu UUID --reserve BYTES --user NAME
 *            --min-victim BYTES --state-dir DIR --nvml-lib PATH --nvidia-smi PATH
 *   tools.ts size CHECK_JSON GPU_UUID OFFENDER_BYTES
 *   tools.ts verdict CHECK_JSON GPU_UUID PID
 *   tools.ts summary ENFORCE_JSON AFTER_SAMPLE_JSON GPU_UUID
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CheckReport } from '../../agent/src/guard/check-report.ts';
import type { Snapshot } from '../../shared/src/snapshot.ts';
import { formatBytes } from '../../shared/src/units.ts';
import type { EnforcementVerdict } from './enforcement.ts';
import {
  compareMemory,
  findOffender,
  invisibleReason,
  parseSmiMemoryCsv,
  readVerdict,
  renderAgentConfig,
  reserveFor,
} from './figures.ts';

type Command = (args: string[]) => number;

const readJson = <T>(file: string): T =>
  JSON.parse(readFileSync(file, 'utf8')) as T;

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

function stop(reason: string): number {
  process.stderr.write(`${reason}\n`);
  return 1;
}

const compare: Command = ([nvml, source, csv]) => {
  const result = compareMemory(
    readJson<Snapshot>(nvml!),
    readJson<Snapshot>(source!),
    parseSmiMemoryCsv(readFileSync(csv!, 'utf8')),
  );
  for (const line of result.lines) out(`  ${line}`);
  out(
    result.agrees
      ? '  the three readings agree (totals within 1 MiB, used/free within 64 MiB)'
      : '  WARNING: readings differ beyond the tolerance on the rows marked !',
  );
  return 0;
};

const findOffenderCommand: Command = ([file, pid, minBytes]) => {
  const snapshot = readJson<Snapshot>(file!);
  const seen = findOffender(snapshot, Number(pid), Number(minBytes));
  if (!seen) {
    const why = invisibleReason(snapshot);
    return stop(
      why
        ? `pid ${pid} is not visible to the agent: ${why}`
        : `pid ${pid} holds less than ${formatBytes(Number(minBytes))} on every GPU`,
    );
  }
  out(
    `${seen.gpuUuid} ${seen.gpuIndex} ${seen.usedBytes} ${seen.freeBytes ?? 'null'} ${seen.totalBytes ?? 'null'}`,
  );
  return 0;
};

const config: Command = ([file, ...rest]) => {
  const { values } = parseArgs({
    args: rest,
    options: Object.fromEntries(
      [
        'gpu',
        'reserve',
        'user',
        'min-victim',
        'state-dir',
        'nvml-lib',
        'nvidia-smi',
      ].map((k) => [k, { type: 'string' as const }]),
    ),
  });
  const text = renderAgentConfig({
    gpuUuid: String(values.gpu),
    reserveBytes: Number(values.reserve),
    user: String(values.user),
    minVictimBytes: Number(values['min-victim']),
    stateDir: String(values['state-dir']),
    nvmlLibraryPath: String(values['nvml-lib']),
    nvidiaSmiPath: String(values['nvidia-smi']),
  });
  writeFileSync(file!, text);
  return 0;
};

/** Prints V from `check` and the reservation the offender breaks. */
const size: Command = ([file, uuid, offenderBytes]) => {
  const report = readJson<CheckReport>(file!);
  const gpu = report.gpus.find((g) => g.gpuUuid === uuid);
  const available = gpu?.math?.availableBytes;
  if (available == null) {
    return stop(`check has no reservation arithmetic for GPU ${uuid}`);
  }
  out(`${available} ${reserveFor(available, Number(offenderBytes))}`);
  return 0;
};

const verdict: Command = ([file, uuid, pid]) => {
  const v = readVerdict(readJson<CheckReport>(file!), uuid!, Number(pid));
  out(`  verdict:   ${v.wouldDo}: ${v.summary}`);
  out(
    `  deficit:   ${formatBytes(v.deficitBytes)} (${v.deficitBytes} bytes); reserved model could hold ${formatBytes(v.availableBytes)}`,
  );
  out(`  victim(s): ${v.victims.join(', ') || 'none'}`);
  return v.problem ? stop(v.problem) : 0;
};

const summary: Command = ([enforceFile, afterFile, uuid]) => {
  const { verdict: v, offenderPid } = readJson<{
    verdict: EnforcementVerdict;
    offenderPid: number;
  }>(enforceFile!);
  const after = readJson<Snapshot>(afterFile!);
  const freeAfter =
    after.gpus.find((g) => g.uuid === uuid)?.memory.freeBytes ?? null;
  const gained =
    freeAfter !== null && v.freeBeforeBytes !== null
      ? freeAfter - v.freeBeforeBytes
      : null;
  out(
    `  free on GPU ${uuid}: before ${v.freeBeforeBytes} bytes, after ${freeAfter} bytes (${gained === null ? 'n/a' : `${gained >= 0 ? '+' : ''}${formatBytes(gained)}`})`,
  );
  out(
    `PASS: the guard killed only the offender pid ${offenderPid} (${formatBytes(v.offenderUsedBytes)}): SIGTERM ${secs(v.toSigtermMs)} after the first sample, SIGKILL ${v.sigkillNeeded ? 'needed' : 'not needed'}, VRAM verified free ${secs(v.releasedAfterMs)} after SIGTERM`,
  );
  return 0;
};

function secs(ms: number | null): string {
  return ms === null ? 'n/a' : `${(ms / 1000).toFixed(3)} s`;
}

const COMMANDS: Record<string, Command> = {
  summary,
  compare,
  'find-offender': findOffenderCommand,
  config,
  size,
  verdict,
};

const [name, ...args] = process.argv.slice(2);
const command = name ? COMMANDS[name] : undefined;
process.exitCode = command
  ? command(args)
  : stop(`usage: tools.ts ${Object.keys(COMMANDS).join('|')} ...`);
