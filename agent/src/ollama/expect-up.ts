/**
 * Whether Ollama should be up right now, so that "unreachable" counts as a
 * bad SLI event only when users would have been served:
 *
 * 1. the systemd unit (`ollama.unit`, default `ollama`) decides when it
 *    exists: `active`, `activating`, `reloading` and `failed` mean it
 *    should be up (a crash or a restart loop is an outage); `inactive`,
 *    `deactivating` and `maintenance` mean an operator stopped it;
 * 2. without a unit (none configured, not installed, no systemd), an
 *    `ollama serve` process on the host means it should be up and none
 *    means it was stopped;
 * 3. when neither can be read, it should be up: it is being watched.
 */
import type { Exec } from '../../../shared/src/exec.ts';
import type { Fs } from '../../../shared/src/fs.ts';

/** The answer and how it was reached. */
export interface ExpectUp {
  expected: boolean;
  /** `unit`, `process` or `default`. */
  basis: 'unit' | 'process' | 'default';
  /** The unit's `ActiveState`, or the pid found, or why neither. */
  detail: string;
}

const UP_STATES = new Set(['active', 'activating', 'reloading', 'failed']);

/** Reads `systemctl show -p LoadState -p ActiveState` output. */
export function parseUnitState(
  stdout: string,
): { loaded: boolean; activeState: string } | null {
  const fields = Object.fromEntries(
    stdout
      .split('\n')
      .map((line) => line.trim().split('='))
      .filter((pair) => pair.length === 2),
  ) as Record<string, string>;
  if (!fields.LoadState || !fields.ActiveState) return null;
  return {
    loaded: fields.LoadState === 'loaded',
    activeState: fields.ActiveState,
  };
}

/** True when a `/proc/<pid>/cmdline` is `…/ollama serve` (or `ollama.exe`). */
export function isOllamaServeCommand(cmdline: string): boolean {
  const [exe = '', ...args] = cmdline.split('\0').filter((a) => a !== '');
  const base = exe.split('/').pop() ?? '';
  return /^ollama(\.exe)?$/.test(base) && args[0] === 'serve';
}

/** Decides whether Ollama should be up (see the module comment). */
export async function shouldOllamaBeUp(
  options: { unit: string | null },
  deps: { exec?: Exec; fs?: Fs },
): Promise<ExpectUp> {
  if (options.unit !== null && deps.exec) {
    const unit = await readUnit(options.unit, deps.exec);
    if (unit)
      return { expected: UP_STATES.has(unit), basis: 'unit', detail: unit };
  }
  if (deps.fs) {
    const pid = await findServePid(deps.fs);
    if (pid !== undefined) {
      const expected = pid !== null;
      const detail = expected ? `pid ${pid}` : 'no ollama serve process';
      return { expected, basis: 'process', detail };
    }
  }
  return {
    expected: true,
    basis: 'default',
    detail: 'unit and processes unreadable',
  };
}

async function readUnit(unit: string, exec: Exec): Promise<string | null> {
  const result = await exec(
    'systemctl',
    ['show', '-p', 'LoadState', '-p', 'ActiveState', unit],
    { timeoutMs: 2000, env: { LC_ALL: 'C' } },
  );
  if (result.exitCode !== 0) return null;
  const state = parseUnitState(result.stdout.toString('utf8'));
  return state?.loaded ? state.activeState : null;
}

/** The pid of an `ollama serve`, `null` when none, undefined when /proc is unreadable. */
async function findServePid(fs: Fs): Promise<number | null | undefined> {
  let entries: string[];
  try {
    entries = await fs.readdir('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries.filter((e) => /^\d+$/.test(e))) {
    try {
      if (isOllamaServeCommand(await fs.readText(`/proc/${entry}/cmdline`))) {
        return Number(entry);
      }
    } catch {
      // The process ended between the listing and the read: not Ollama now.
    }
  }
  return null;
}
