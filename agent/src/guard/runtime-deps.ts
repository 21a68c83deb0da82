/**
 * What the guard runtime is given: the host's facts and the ports it acts
 * through, real in the agent and fakes in tests.
 */
import type { Clock } from '../../../shared/src/clock.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { GuardEvent } from '../../../shared/src/messages.ts';
import type { Result } from '../../../shared/src/result.ts';
import type { Snapshot } from '../../../shared/src/snapshot.ts';
import type { Notifier } from './notify.ts';
import type { IdentityReader } from './identity-reader.ts';
import type { Signaller } from './signaller.ts';
import type { AncestorInfo } from './types.ts';

/** Collaborators and facts the runtime needs. */
export interface GuardRuntimeDeps {
  /** This host's node name, for audit lines. */
  node: string;
  /** gpuwarden's pid and its parent's: never signalled. */
  self: { pid: number; ppid: number };
  /** Boot id at start; a victim from another boot is never signalled. */
  bootId: string | null;
  /** A fresh snapshot, used right before each signal and to verify. */
  sample(): Promise<Snapshot>;
  /** The pid's identity now: {@link createIdentityReader} in the agent. */
  readIdentity: IdentityReader;
  /** Sends SIGTERM / SIGKILL: {@link createSignaller} in the agent. */
  signal: Signaller;
  /** Ancestors of a pid, nearest first; protection by ancestry. */
  readAncestry?: (pid: number) => Promise<AncestorInfo[] | null>;
  clock: Clock;
  logger: Logger;
  fs: Fs;
  /** Receives every guard event (forwarded to the collector). */
  emit(event: GuardEvent): void;
  /** People-facing hook (command / webhook); none when absent. */
  notify?: Notifier;
  /** Absolute path of the audit log; `null` writes none. */
  auditFile: string | null;
  /** Unloads and reloads a model (for `reloadAfterRestore`). */
  reloadModel?: (model: string) => Promise<Result<void, string>>;
  /** Base URL in the offload fix text. Default `http://127.0.0.1:11434`. */
  ollamaUrl?: string;
}
