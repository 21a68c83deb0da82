import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { createLinkClient } from '../../../agent/src/link/link-client.ts';
import type { LinkClient } from '../../../agent/src/link/link-client.ts';
import { readJournal } from '../../../collector/src/ingest/journal.ts';
import { createSystemClock } from '../../../shared/src/clock.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import {
  killChild,
  sliPayload,
  spawnTs,
  tempDir,
  testLinkConfig,
  waitUntil,
  writeToken,
} from '../../support/link-harness.ts';
import type { TestChild } from '../../support/link-harness.ts';

const ROUNDS = 10;
const PER_ROUND = 300;

async function journalSeqs(dir: string, node: string): Promise<number[]> {
  const seqs: number[] = [];
  for await (const record of readJournal(path.join(dir, 'journal'))) {
    if (record.kind === 1 && record.node === node) seqs.push(record.seq);
  }
  return seqs;
}

describe('ingest under SIGKILL', function () {
  this.timeout(90_000);
  let dir: string;
  let collector: TestChild | null = null;
  let client: LinkClient | null = null;

  before(() => {
    dir = tempDir();
  });

  after(async () => {
    await client?.stop();
    if (collector) await killChild(collector.child, 'SIGKILL');
  });

  async function startCollector(port: number): Promise<number> {
    collector = spawnTs('test/support/ingest-process.ts', [
      dir,
      String(port),
      path.join(dir, 'tokens'),
    ]);
    const line = await collector.waitForLine(/^PORT \d+$/);
    return Number(line.split(' ')[1]);
  }

  it('holds every seq exactly once, in order, after 10 kills mid-stream', async () => {
    const token = writeToken(dir, 'jasper');
    writeFileSync(path.join(dir, 'tokens'), `jasper ${token.tokenSha256}\n`);
    const port = await startCollector(0);
    client = createLinkClient(
      {
        node: 'jasper',
        agentVersion: '0.1.0',
        stateDir: path.join(dir, 'agent'),
        config: testLinkConfig(`127.0.0.1:${port}`, token.file),
      },
      {
        clock: createSystemClock(),
        fs: createNodeFs(),
        logger: createSilentLogger(),
      },
    );
    await client.start();

    let sent = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      for (let i = 0; i < PER_ROUND; i += 1) client.send(sliPayload(sent++));
      const ackedBefore = client.status().lastAckedSeq;
      await waitUntil(
        () => client!.status().lastAckedSeq > ackedBefore,
        'some acks',
      );
      await killChild(collector!.child, 'SIGKILL');
      for (let i = 0; i < 20; i += 1) client.send(sliPayload(sent++));
      await startCollector(port);
    }
    await waitUntil(
      () =>
        client!.status().lastAckedSeq === sent &&
        client!.status().backlogMessages === 0,
      'all acks',
      30_000,
    );
    await killChild(collector!.child, 'SIGTERM');

    const expected = Array.from({ length: sent }, (_, i) => i + 1);
    expect(await journalSeqs(dir, 'jasper')).to.deep.equal(expected);
    const sinkSeqs = new Set(
      readFileSync(path.join(dir, 'sink.log'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => Number(line.split(' ')[1])),
    );
    expect(sinkSeqs.size).to.equal(sent);
  });
});
