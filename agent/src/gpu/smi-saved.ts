/**
 * Reads a saved nvidia-smi output for `sample --from FILE`: sniffs whether
 * it is `-q -x` XML, `--query-gpu` CSV, `--query-compute-apps` CSV (or the
 * two CSVs one after the other), an error message, or a format gpuwarden
 * does not read (the plain table, `-q` text, `-L`, `pmon`), and dispatches.
 * Pure: the caller reads the file.
 */
import { err, ok } from '../../../shared/src/result.ts';
import type { Result } from '../../../shared/src/result.ts';
import type { SourceFailure, SourceSample } from './source.ts';
import { classifySmiError, isSmiErrorText } from './smi-errors.ts';
import { parseComputeAppsCsv, parseQueryGpuCsv } from './smi-csv.ts';
import { isComputeAppsTable, parseCsvHeader } from './smi-csv-split.ts';
import { attachComputeApps, computeAppsToSample } from './smi-apps.ts';
import { decodeSmiBytes } from './smi-values.ts';
import { parseSmiXml } from './smi-xml.ts';

/** What `--from` accepts, for error messages and docs. */
export const ACCEPTED_FORMATS =
  '`nvidia-smi -q -x` XML, or `nvidia-smi --query-gpu=... --format=csv` and/or `--query-compute-apps=... --format=csv` CSV with its header line';

const UNSUPPORTED: ReadonlyArray<readonly [RegExp, string]> = [
  [/=+\s*NVSMI LOG\s*=+|^\s*Attached GPUs\s+:/m, '`nvidia-smi -q` text'],
  [/^GPU \d+: .*\(UUID: /m, 'an `nvidia-smi -L` list'],
  [/^#\s*gpu\s+pid\b/im, '`nvidia-smi pmon` output'],
  [/List of valid properties to query/i, '`nvidia-smi --help-query-*` text'],
  [/^\s*\+-{3,}|^\s*\|.*\|\s*$|NVIDIA-SMI \d/m, 'a plain `nvidia-smi` table'],
];

/**
 * Parses a saved nvidia-smi output of any accepted kind. An error message
 * (driver not loaded, …) comes back as its classified failure; a format
 * that is not accepted as `unsupported_format`, saying what is.
 */
export function parseSavedSmiOutput(
  bytes: Buffer,
): Result<SourceSample, SourceFailure> {
  const text = decodeSmiBytes(bytes);
  const head = text.trimStart();
  if (head === '') return err(emptyFile());
  if (/^<(\?xml|!DOCTYPE|nvidia_smi_log)/i.test(head)) {
    return parseSmiXml(text);
  }
  if (isSmiErrorText(text)) {
    return err(classifySmiError(null, text, '') ?? emptyFile());
  }
  const unsupported = UNSUPPORTED.find(([pattern]) => pattern.test(text));
  if (unsupported) return err(unsupportedFormat(unsupported[1]));
  return parseSavedCsv(text);
}

/** Splits at header lines and parses the query-gpu / compute-apps parts. */
function parseSavedCsv(text: string): Result<SourceSample, SourceFailure> {
  const sections = splitSections(text);
  if (sections === null) {
    const first = text.trimStart().split('\n')[0] ?? '';
    const cellLike = first.includes(',') || /^(\[.*\]|[\d.]+)\s*$/.test(first);
    if (!cellLike) return err(unsupportedFormat('this text'));
    return parseQueryGpuCsv(text);
  }
  const gpuParts = sections.filter((s) => !s.computeApps);
  const appParts = sections.filter((s) => s.computeApps);
  if (gpuParts.length > 1 || appParts.length > 1) {
    return err(unsupportedFormat('more than one CSV of the same kind'));
  }

  const apps = appParts[0] ? parseComputeAppsCsv(appParts[0].text) : null;
  if (apps && !apps.ok) return apps;
  const gpus = gpuParts[0] ? parseQueryGpuCsv(gpuParts[0].text) : null;
  if (gpus && !gpus.ok) return gpus;
  if (gpus && apps) return ok(attachComputeApps(gpus.value, apps.value));
  if (apps) return ok(computeAppsToSample(apps.value));
  return gpus ?? err(emptyFile());
}

interface CsvSection {
  text: string;
  computeApps: boolean;
}

/** Sections starting at each header line; `null` when line 1 is data. */
function splitSections(text: string): CsvSection[] | null {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const sections: { lines: string[]; computeApps: boolean }[] = [];
  for (const line of lines) {
    const header = parseCsvHeader(line);
    if (header) {
      sections.push({ lines: [line], computeApps: isComputeAppsTable(header) });
    } else if (sections.length === 0) {
      return null;
    } else {
      sections.at(-1)?.lines.push(line);
    }
  }
  return sections.map((s) => ({
    text: s.lines.join('\n'),
    computeApps: s.computeApps,
  }));
}

function unsupportedFormat(what: string): SourceFailure {
  return {
    kind: 'unsupported_format',
    message: `--from cannot read ${what}; it accepts ${ACCEPTED_FORMATS}`,
    retryable: false,
  };
}

function emptyFile(): SourceFailure {
  return {
    kind: 'empty_output',
    message: `the file is empty; --from accepts ${ACCEPTED_FORMATS}`,
    retryable: false,
  };
}
