import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { readJournal } from '../../../collector/src/ingest/journal.ts';
import {
  killChild,
  spawnTs,
  tempDir,
  writeToken,
} from '../../support/link-harness.ts';
import type { TestChild } from '../../support/link-harness.ts';

const COUNT = 500;

function lastStatus(child: TestChild): Record<string, number> | null {
  const line = [...child.lines].reverse().find((l) => l.startsWith('STATUS '));
  return line === undefined
    ? null
    : (JSON.parse(line.slice(7)) as Record<string, number>);
}

describe('agent link across an agent kill', function () {
  this.timeout(60_000);
  const children: TestChild[] = [];

  after(async () => {
    for (const { child } of children) await killChild(child, 'SIGKILL');
  });

  function start(script: string, args: string[]): TestChild {
    const child = spawnTs(script, args);
    children.push(child);
    return child;
  }

  it('delivers the outbox spilled before a SIGKILL while the collector was down', async () => {
    const dir = tempDir();
    const token = writeToken(dir, 'jasper');
    const tokensFile = path.join(dir, 'tokens');
    writeFileSync(tokensFile, `jasper ${token.tokenSha256}\n`);
    const stateDir = path.join(dir, 'agent');
    const probe = start('test/support/ingest-process.ts', [
      dir,
      '0',
      tokensFile,
    ]);
    const port = Number((await probe.waitForLine(/^PORT /)).split(' ')[1]);
    await killChild(probe.child, 'SIGTERM');
    const address = `127.0.0.1:${port}`;

    const agent = start('test/support/link-agent-process.ts', [
      stateDir,
      address,
      token.file,
      String(COUNT),
    ]);
    await agent.waitForLine(new RegExp(`"spilledMessages":${COUNT}`));
    await killChild(agent.child, 'SIGKILL');
    expect(
      readdirSync(path.join(stateDir, 'outbox')).some((name) =>
        name.endsWith('.gws'),
      ),
    ).to.equal(true);

    const collector = start('test/support/ingest-process.ts', [
      dir,
      String(port),
      tokensFile,
    ]);
    await collector.waitForLine(/^PORT /);
    const again = start('test/support/link-agent-process.ts', [
      stateDir,
      address,
      token.file,
      '0',
    ]);
    await again.waitForLine(/"connected":true,"backlogMessages":0/);
    await killChild(again.child, 'SIGKILL');
    await killChild(collector.child, 'SIGTERM');

    const seqs: number[] = [];
    for await (const record of readJournal(path.join(dir, 'journal'))) {
      if (record.kind === 1) seqs.push(record.seq);
    }
    expect(seqs).to.deep.equal(Array.from({ length: COUNT }, (_, i) => i + 1));
    expect(lastStatus(again)?.nextSeq).to.be.greaterThan(COUNT);
  });
});
