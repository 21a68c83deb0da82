/**
 * Signalling a victim: the small I/O edge the enforcer sends SIGTERM and
 * SIGKILL through. It refuses, whatever the caller asks, any pid that would
 * hit a process group, everyone, init, gpuwarden itself or its parent.
 */
import { err, ok } from '../../../shared/src/result.ts';
import type { Result } from '../../../shared/src/result.ts';

/** The signals the enforcer sends. */
export type KillSignal = 'SIGTERM' | 'SIGKILL';

/** Sends a signal to one pid; a failure is a value. */
export type Signaller = (
  pid: number,
  signal: KillSignal,
) => Result<void, string>;

/**
 * The real signaller: `process.kill` for one positive pid, refusing pid
 * ≤ 1, non-integers, gpuwarden itself and its parent (a negative or zero
 * pid would signal a whole group or everyone).
 */
export function createSignaller(
  options: { selfPid: number; parentPid: number },
  kill: (pid: number, signal: KillSignal) => void = (pid, signal) =>
    void process.kill(pid, signal),
): Signaller {
  return (pid, signal) => {
    const refused =
      !Number.isInteger(pid) ||
      pid <= 1 ||
      pid === options.selfPid ||
      pid === options.parentPid;
    if (refused) return err(`refused to signal pid ${pid}`);
    try {
      kill(pid, signal);
      return ok(undefined);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
      return err(`${signal} to pid ${pid} failed: ${code}`);
    }
  };
}
