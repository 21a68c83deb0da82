/**
 * A child process for the crash test: opens the incident manager on the
 * directory in argv[2], opens an incident (or continues the one there),
 * then adds notes and guard evidence as fast as it can, printing
 * `saved N` after note N is on disk, until it is killed.
 */
import { createIncidentManager } from '../../../../collector/src/incidents/manager.ts';
import { createSystemClock } from '../../../../shared/src/clock.ts';
import { createNodeFs } from '../../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../../shared/src/logger.ts';
import { guard, HIGH_BURN, verdict } from './jasper-story.ts';

async function main(dir: string): Promise<void> {
  const clock = createSystemClock();
  const manager = await createIncidentManager(
    { dataDir: dir },
    { clock, logger: createSilentLogger(), fs: createNodeFs() },
  );
  await manager.onAlertStates(
    [verdict(clock.nowMs(), HIGH_BURN(3.2))],
    clock.nowMs(),
  );
  const id = manager.list()[0]!.id;
  console.log(`opened ${id}`);
  for (let n = 1; ; n += 1) {
    manager.recordEvidence(
      'jasper',
      guard(clock.nowMs(), 'warning', `warning ${n}`),
    );
    const result = await manager.addNote(id, 'writer', `note ${n}`);
    if (!result.ok) throw new Error(result.error.message);
    console.log(`saved ${n}`);
  }
}

void main(process.argv[2] ?? '');
