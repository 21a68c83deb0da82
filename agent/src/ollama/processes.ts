/**
 * Which GPU processes belong to Ollama, by trust anchors rather than names
 * (names are user-controlled and truncated to 15 bytes): the systemd unit
 * or cgroup, descent from an `ollama serve`, and the executable's path
 * under an install prefix. A name alone is reported as a suspect only.
 * The process forms per version are in research/ollama.md §4.
 */
import type { GpuProcess } from '../../../shared/src/snapshot.ts';

/** A process an ancestry lookup reports (the parent chain). */
export interface AncestorInfo {
  pid: number;
  exe: string | null;
  /** Full command line, arguments separated by spaces. */
  command: string | null;
  unit?: string | null;
  cgroup?: string | null;
}

/** Parent chain of a pid, nearest parent first; `null` when unknown. */
export type AncestryLookup = (pid: number) => AncestorInfo[] | null;

/** What marked a process as Ollama's. */
export type OllamaEvidence =
  'configured' | 'unit' | 'cgroup' | 'ancestry' | 'exe';

/** One of Ollama's processes. */
export interface OllamaProcessMatch {
  pid: number;
  /** `server` (`ollama serve`), `runner` (holds a model), or `unknown`. */
  role: 'server' | 'runner' | 'unknown';
  evidence: OllamaEvidence[];
}

/** Options of {@link identifyOllamaProcesses}. */
export interface OllamaProcessOptions {
  /** systemd unit, with or without `.service`; default `ollama`. */
  unit: string | null;
  /** Directories (or exact files) Ollama's binaries live in. */
  installPrefixes: readonly string[];
  /** Pids the operator declared as Ollama's. */
  pids?: readonly number[];
}

/** Where install scripts, packages and the Docker image put Ollama. */
export const DEFAULT_OLLAMA_PREFIXES: readonly string[] = [
  '/usr/local/bin/ollama',
  '/usr/local/lib/ollama/',
  '/usr/bin/ollama',
  '/usr/lib/ollama/',
  '/bin/ollama',
  '/opt/ollama/',
];

const RUNNER_NAMES =
  /^(ollama|ollama_llama_se(rver)?|ollama-runner|llama-server)(\.exe)?$/;

/**
 * Sorts GPU processes into Ollama's (with the evidence) and name-only
 * suspects, which must not be treated as Ollama's.
 */
export function identifyOllamaProcesses(
  processes: readonly GpuProcess[],
  options: OllamaProcessOptions,
  ancestry: AncestryLookup,
): { ollama: OllamaProcessMatch[]; nameOnly: number[] } {
  const ollama: OllamaProcessMatch[] = [];
  const nameOnly: number[] = [];
  for (const process of processes) {
    const evidence = evidenceFor(process, options, ancestry);
    if (evidence.length > 0) {
      ollama.push({ pid: process.pid, role: roleOf(process), evidence });
    } else if (
      RUNNER_NAMES.test(baseName(process.name ?? process.command ?? ''))
    ) {
      nameOnly.push(process.pid);
    }
  }
  return { ollama, nameOnly };
}

function evidenceFor(
  p: GpuProcess,
  options: OllamaProcessOptions,
  ancestry: AncestryLookup,
): OllamaEvidence[] {
  const evidence: OllamaEvidence[] = [];
  if (options.pids?.includes(p.pid)) evidence.push('configured');
  if (isUnit(p.unit ?? null, options.unit)) evidence.push('unit');
  else if (inCgroup(p.cgroup ?? null, options.unit)) evidence.push('cgroup');
  const parents = ancestry(p.pid) ?? [];
  if (parents.some((a) => isServer(a, options))) evidence.push('ancestry');
  if (isInstalled(p.exe ?? null, options.installPrefixes)) evidence.push('exe');
  return evidence;
}

function roleOf(p: GpuProcess): OllamaProcessMatch['role'] {
  const args = (p.command ?? '').split(/\s+/);
  if (args[1] === 'serve') return 'server';
  if (
    args.includes('runner') ||
    /llama/.test(baseName(p.exe ?? p.name ?? ''))
  ) {
    return 'runner';
  }
  return args.includes('--model') ? 'runner' : 'unknown';
}

function isServer(a: AncestorInfo, options: OllamaProcessOptions): boolean {
  const isServe = (a.command ?? '').split(/\s+/)[1] === 'serve';
  const anchored =
    isUnit(a.unit ?? null, options.unit) ||
    inCgroup(a.cgroup ?? null, options.unit) ||
    isInstalled(a.exe, options.installPrefixes) ||
    (options.pids?.includes(a.pid) ?? false);
  return isServe && anchored;
}

function unitName(unit: string): string {
  return unit.endsWith('.service') ? unit : `${unit}.service`;
}

function isUnit(unit: string | null, wanted: string | null): boolean {
  return (
    unit !== null && wanted !== null && unitName(unit) === unitName(wanted)
  );
}

function inCgroup(cgroup: string | null, wanted: string | null): boolean {
  if (cgroup === null || wanted === null) return false;
  return cgroup.split('/').includes(unitName(wanted));
}

function isInstalled(exe: string | null, prefixes: readonly string[]): boolean {
  if (exe === null) return false;
  const path = exe.replace(/ \(deleted\)$/, '');
  return prefixes.some((prefix) =>
    prefix.endsWith('/') ? path.startsWith(prefix) : path === prefix,
  );
}

function baseName(text: string): string {
  return (text.split(/\s+/)[0] ?? '').split('/').pop() ?? '';
}
