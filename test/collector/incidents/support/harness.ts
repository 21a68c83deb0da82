/**
 * A manager on a temporary directory, a fake clock and a silent logger,
 * plus a way to play a story of evidence and verdicts through it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createIncidentManager } from '../../../../collector/src/incidents/manager.ts';
import type {
  IncidentManager,
  IncidentManagerDeps,
  IncidentManagerOptions,
} from '../../../../collector/src/incidents/manager-types.ts';
import { createNodeFs } from '../../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../../shared/src/logger.ts';
import { FakeClock } from '../../../support/fake-clock.ts';
import type { StoryStep } from './jasper-story.ts';

export interface Harness {
  dir: string;
  clock: FakeClock;
  manager: IncidentManager;
  /** Opens another manager on the same directory (a restart). */
  reopen(deps?: Partial<IncidentManagerDeps>): Promise<IncidentManager>;
  cleanup(): Promise<void>;
}

export async function createHarness(
  options: Partial<IncidentManagerOptions> = {},
  deps: Partial<IncidentManagerDeps> = {},
): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gpuwarden-incidents-'));
  const clock = new FakeClock('2026-02-28T14:00:00Z');
  let counter = 0;
  const make = (
    extra: Partial<IncidentManagerDeps> = {},
  ): Promise<IncidentManager> =>
    createIncidentManager(
      { dataDir: dir, ...options },
      {
        clock,
        logger: createSilentLogger(),
        fs: createNodeFs(),
        idSuffix: () => {
          counter += 1;
          return (0xa3f6 + counter).toString(16);
        },
        ...deps,
        ...extra,
      },
    );
  const managers: IncidentManager[] = [await make()];
  return {
    dir,
    clock,
    manager: managers[0]!,
    reopen: async (extra) => {
      const next = await make(extra);
      managers.push(next);
      return next;
    },
    cleanup: async () => {
      for (const m of managers) await m.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Plays `steps` through the manager, moving the clock to each step. */
export async function play(
  h: Harness,
  steps: StoryStep[],
  manager = h.manager,
): Promise<void> {
  for (const step of steps) {
    const delta = step.atMs - h.clock.nowMs();
    if (delta > 0) await h.clock.advance(delta);
    for (const message of step.messages)
      manager.recordEvidence(message.node, message);
    await manager.onAlertStates(step.states, step.atMs);
  }
}
