import path from 'node:path';
import { expect } from 'chai';
import { RECORD_MESSAGE } from '../../../collector/src/ingest/journal-format.ts';
import { IngestJournal } from '../../../collector/src/ingest/journal.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import { loadLinkProto } from '../../../shared/src/proto/link-proto.ts';
import { encodeAgentMessage } from '../../../shared/src/proto/message-codec.ts';
import { startTestIngest, tempDir } from '../../support/link-harness.ts';
import { sampleSnapshot } from '../../support/link-fixtures.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';

describe('ingest start with messages a crash left unapplied', function () {
  this.timeout(20_000);

  it('starts, and keeps them for the next start, when the sink refuses them', async () => {
    const dir = tempDir();
    const journal = await IngestJournal.open(
      {
        dir: path.join(dir, 'journal'),
        segmentBytes: 1024 * 1024,
        maxBytes: 16 * 1024 * 1024,
      },
      {
        logger: createSilentLogger(),
        fs: createNodeFs(),
      },
    );
    const snapshot = sampleSnapshot('jasper', 1, 2);
    snapshot.takenAt = '2026-02-28T14:00:01.000Z';
    const payload = encodeAgentMessage(loadLinkProto(), {
      node: 'jasper',
      seq: 1,
      sentAtMs: Date.parse(snapshot.takenAt),
      payload: { type: 'snapshot', snapshot },
    });
    await journal.write(
      [{ kind: RECORD_MESSAGE, node: 'jasper', seq: 1, payload }],
      true,
    );
    await journal.close();

    const start = async (apply: () => Promise<void>) => {
      const { logger, lines } = createMemoryLogger();
      const { server } = await startTestIngest(dir, {}, logger, { apply });
      await server.close();
      return lines.map((line) => line.msg);
    };

    const refused = await start(async () => {
      throw new Error('engine not ready');
    });
    let offered = 0;
    await start(async () => void (offered += 1));

    expect(refused).to.include(
      'sink failed to apply journaled messages; the journal offers them again at next start',
    );
    expect(offered).to.equal(1);
  });
});
