/**
 * A guard runtime wired to a {@link FakeHost}, a fake clock, an in-memory
 * file system and event/hook recorders.
 */
import type { GuardEvent } from '../../../shared/src/messages.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import type { Result } from '../../../shared/src/result.ts';
import { createGuardRuntime } from '../../../agent/src/guard/runtime.ts';
import type { GuardRuntime } from '../../../agent/src/guard/runtime.ts';
import type { GuardRuntimeDeps } from '../../../agent/src/guard/runtime-deps.ts';
import type { GuardConfig } from '../../../agent/src/guard/guard-config.ts';
import type { HarmSignals } from '../../../agent/src/guard/harm.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { BOOT_ID, FakeHost } from './fake-host.ts';
import type { FakeProc } from './fake-host.ts';
import { MemoryFs } from './memory-fs.ts';

export const AUDIT_FILE = '/var/lib/gpuwarden-agent/guard-audit.jsonl';

export interface Harness {
  clock: FakeClock;
  host: FakeHost;
  fs: MemoryFs;
  events: GuardEvent[];
  hooked: GuardEvent[];
  reloads: string[];
  runtime: GuardRuntime;
  /** Samples every 2 s for `seconds`, with `harm`. */
  tick(seconds: number, harm: HarmSignals): Promise<void>;
  kinds(): string[];
}

export function harness(
  config: GuardConfig,
  procs: FakeProc[],
  options: {
    unattributedMib?: number;
    overrides?: (host: FakeHost) => Partial<GuardRuntimeDeps>;
    reload?: Result<void, string>;
  } = {},
): Harness {
  const clock = new FakeClock('2026-03-02T13:47:00Z');
  const host = new FakeHost(
    procs,
    { unattributedMib: options.unattributedMib ?? 300 },
    () => clock.nowMs(),
  );
  const fs = new MemoryFs();
  const events: GuardEvent[] = [];
  const hooked: GuardEvent[] = [];
  const reloads: string[] = [];
  const runtime = createGuardRuntime(config, {
    node: 'jasper',
    self: { pid: 999_999, ppid: 999_998 },
    bootId: BOOT_ID,
    sample: host.sample,
    readIdentity: host.readIdentity,
    signal: host.signal,
    clock,
    logger: createSilentLogger(),
    fs,
    emit: (e) => events.push(e),
    notify: async (e) => {
      hooked.push(e);
    },
    auditFile: AUDIT_FILE,
    reloadModel: async (model) => {
      reloads.push(model);
      return options.reload ?? { ok: true, value: undefined };
    },
    ...options.overrides?.(host),
  });
  return {
    clock,
    host,
    fs,
    events,
    hooked,
    reloads,
    runtime,
    async tick(seconds, harm) {
      for (let t = 0; t <= seconds * 1000; t += 2000) {
        await runtime.onSample(host.snapshot(), harm);
        await clock.advance(2000);
      }
    },
    kinds: () => events.map((e) => e.kind),
  };
}
