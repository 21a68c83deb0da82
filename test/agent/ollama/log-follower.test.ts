import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createSystemClock } from '../../../shared/src/clock.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import { createFileFollower } from '../../../agent/src/ollama/log-follower.ts';
import type { LogFollower } from '../../../agent/src/ollama/log-follower.ts';

async function waitFor(check: () => boolean): Promise<void> {
  for (let waitedMs = 0; waitedMs < 2000 && !check(); waitedMs += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('createFileFollower()', () => {
  let dir: string;
  let follower: LogFollower;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gpuwarden-follow-'));
  });
  afterEach(async () => {
    await follower.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers whole new lines only, from the end, across truncation', async () => {
    const file = path.join(dir, 'server.log');
    writeFileSync(file, 'old line before start\n');
    const got: string[] = [];
    follower = createFileFollower(
      { path: file, pollMs: 10 },
      { clock: createSystemClock(), logger: createSilentLogger() },
    );
    follower.start((line) => got.push(line.text));
    await new Promise((resolve) => setTimeout(resolve, 30));

    appendFileSync(file, 'first\nsecond half');
    await waitFor(() => got.length >= 1);
    appendFileSync(file, ' done\r\n');
    await waitFor(() => got.length >= 2);
    writeFileSync(file, 'after rotation\n');
    await waitFor(() => got.length >= 3);

    expect(got).to.deep.equal(['first', 'second half done', 'after rotation']);
  });

  it('waits for a file that does not exist yet', async () => {
    const file = path.join(dir, 'later.log');
    const got: string[] = [];
    follower = createFileFollower(
      { path: file, pollMs: 10 },
      { clock: createSystemClock(), logger: createSilentLogger() },
    );
    follower.start((line) => got.push(line.text));
    await new Promise((resolve) => setTimeout(resolve, 30));

    writeFileSync(file, '');
    await new Promise((resolve) => setTimeout(resolve, 30));
    appendFileSync(file, 'hello\n');
    await waitFor(() => got.length >= 1);

    expect(got).to.deep.equal(['hello']);
  });
});
