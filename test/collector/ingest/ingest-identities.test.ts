import path from 'node:path';
import { expect } from 'chai';
import { createLinkClient } from '../../../agent/src/link/link-client.ts';
import type { LinkClient } from '../../../agent/src/link/link-client.ts';
import { readJournal } from '../../../collector/src/ingest/journal.ts';
import { createSystemClock } from '../../../shared/src/clock.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import type { Snapshot } from '../../../shared/src/snapshot.ts';
import { sampleSnapshot } from '../../support/link-fixtures.ts';
import {
  startTestIngest,
  tempDir,
  testLinkConfig,
  waitUntil,
  writeToken,
} from '../../support/link-harness.ts';
import type { TestIngest } from '../../support/link-harness.ts';

const T0 = Date.parse('2026-02-28T14:00:00.000Z');

function snapshotAt(second: number): Snapshot {
  const snapshot = sampleSnapshot('jasper', 2, 4);
  snapshot.takenAt = new Date(T0 + second * 1000).toISOString();
  snapshot.gpus[0]!.processes[0]!.cgroup = '/system.slice/infer.service';
  snapshot.gpus[1]!.processes[1]!.usedBytes = 1_000_000 + second;
  return snapshot;
}

async function journalSizes(dir: string): Promise<number[]> {
  const sizes: number[] = [];
  for await (const record of readJournal(path.join(dir, 'journal'))) {
    if (record.kind === 1) sizes.push(record.payload.length);
  }
  return sizes;
}

function appliedSnapshots(ingest: TestIngest): Snapshot[] {
  return ingest.applied.flatMap((m) =>
    m.payload.type === 'snapshot' ? [m.payload.snapshot] : [],
  );
}

describe('process identities over the link', function () {
  this.timeout(30_000);
  let dir: string;
  let client: LinkClient | null = null;
  const ingests: TestIngest[] = [];

  beforeEach(() => {
    dir = tempDir();
  });

  afterEach(async () => {
    await client?.stop();
    client = null;
    for (const ingest of ingests.splice(0)) await ingest.server.close();
  });

  async function start(port = 0): Promise<TestIngest> {
    const token = writeToken(dir, 'jasper');
    const ingest = await startTestIngest(dir, {
      listen: { host: '127.0.0.1', port },
      tokens: [{ node: 'jasper', tokenSha256: token.tokenSha256 }],
    });
    ingests.push(ingest);
    return ingest;
  }

  function connect(ingest: TestIngest): LinkClient {
    client = createLinkClient(
      {
        node: 'jasper',
        agentVersion: '0.1.0',
        stateDir: path.join(dir, 'agent'),
        config: testLinkConfig(ingest.address, path.join(dir, 'jasper.token')),
      },
      {
        clock: createSystemClock(),
        fs: createNodeFs(),
        logger: createSilentLogger(),
      },
    );
    return client;
  }

  it('delivers whole snapshots while steady ones leave identities out', async () => {
    const ingest = await start();
    const link = connect(ingest);
    await link.start();
    await waitUntil(() => link.status().connected, 'connected');
    const sent = [0, 1, 2, 3].map(snapshotAt);
    sent.forEach((snapshot) => link.send({ type: 'snapshot', snapshot }));
    await waitUntil(() => ingest.applied.length === 4, '4 applied');

    expect(appliedSnapshots(ingest)).to.deep.equal(sent);
    const [full, ...steady] = await journalSizes(dir);
    for (const size of steady) expect(size).to.be.below(full! * 0.7);
  });

  it('has every name again from the first snapshot after a collector restart', async () => {
    const first = await start();
    const port = Number(first.address.split(':')[1]);
    const link = connect(first);
    await link.start();
    await waitUntil(() => link.status().connected, 'connected');
    link.send({ type: 'snapshot', snapshot: snapshotAt(0) });
    link.send({ type: 'snapshot', snapshot: snapshotAt(1) });
    await waitUntil(() => first.applied.length === 2, '2 applied');
    await first.server.close();
    ingests.splice(0);
    await waitUntil(() => !link.status().connected, 'disconnected');

    // Sent while the collector is away, then to a collector that forgot.
    const sent = [2, 3].map(snapshotAt);
    sent.forEach((snapshot) => link.send({ type: 'snapshot', snapshot }));
    const second = await start(port);
    await waitUntil(() => second.applied.length === 2, 'backlog applied');
    const after = snapshotAt(4);
    link.send({ type: 'snapshot', snapshot: after });
    await waitUntil(() => second.applied.length === 3, 'next applied');

    expect(appliedSnapshots(second)).to.deep.equal([...sent, after]);
  });
});
