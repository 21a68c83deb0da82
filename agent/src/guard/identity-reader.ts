/**
 * The enforcer's identity reader, built on the sampler's `/proc` readers
 * (`agent/src/gpu/proc-identity.ts`): one implementation of "who is this
 * pid" (pid + start time + boot id) for the snapshot and for the re-check
 * right before a signal. The guard adds one rule: a zombie counts as gone,
 * because it has already let go of its GPU memory and a signal does nothing.
 */
import { parseProcStat } from '../gpu/proc-parse.ts';
import {
  procPath,
  readProcText,
  readProcessIdentity,
} from '../gpu/proc-identity.ts';
import type { ProcDeps, ProcessIdentity } from '../gpu/proc-identity.ts';

/** Reads a pid's identity now; `null` when the pid is gone or a zombie. */
export type IdentityReader = (pid: number) => Promise<ProcessIdentity | null>;

/** `/proc/<pid>/stat` states of a process that has exited. */
const EXITED_STATES: ReadonlySet<string> = new Set(['Z', 'X']);

/**
 * The live identity of a pid: the sampler's {@link readProcessIdentity},
 * `null` when the process is gone, a zombie (`Z`) or dead (`X`).
 */
export function createIdentityReader(deps: ProcDeps): IdentityReader {
  return async (pid) => {
    const identity = await readProcessIdentity(pid, deps);
    if (!identity) return null;

    // Read the state after the identity: a process that exits in between
    // is then seen as exited, never as alive.
    const stat = parseProcStat(
      readProcText(deps, procPath(deps, pid, 'stat')) ?? '',
    );
    const isLive =
      stat !== null &&
      stat.startTimeTicks === identity.startTimeTicks &&
      !EXITED_STATES.has(stat.state);
    return isLive ? identity : null;
  };
}
