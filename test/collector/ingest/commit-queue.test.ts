import { expect } from 'chai';
import { CommitQueue } from '../../../collector/src/ingest/commit-queue.ts';
import {
  parseSegment,
  RECORD_APPLIED,
  RECORD_MESSAGE,
} from '../../../collector/src/ingest/journal-format.ts';
import type { RecordBuffer } from '../../../collector/src/ingest/journal-format.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';

interface Write {
  records: [number, string, number, string][];
  sync: boolean;
}

/** A journal that keeps what each write held, and can hold or fail one. */
function fakeJournal() {
  const writes: Write[] = [];
  const held: (() => void)[] = [];
  let holdNext = false;
  let failNext = false;
  return {
    writes,
    held,
    holdNext: () => (holdNext = true),
    failNext: () => (failNext = true),
    writeBuffer: async (buffer: RecordBuffer, sync: boolean) => {
      const bytes = Buffer.from(buffer.bytes());
      if (holdNext) {
        holdNext = false;
        await new Promise<void>((resolve) => held.push(resolve));
      }
      if (failNext) {
        failNext = false;
        throw new Error('ENOSPC: no space left on device');
      }
      writes.push({
        records: parseSegment(bytes).records.map((r) => [
          r.kind,
          r.node,
          r.seq,
          r.payload.toString(),
        ]),
        sync,
      });
    },
  };
}

function setup() {
  const journal = fakeJournal();
  const failed: string[][] = [];
  const { logger, lines } = createMemoryLogger();
  const queue = new CommitQueue({
    journal,
    logger,
    onWriteFailed: (nodes) => failed.push(nodes),
  });
  return { queue, journal, failed, lines };
}

const M = RECORD_MESSAGE;
const A = RECORD_APPLIED;

describe('CommitQueue', () => {
  it('stores a copy of the bytes, synced, before it resolves', async () => {
    const t = setup();
    const bytes = Buffer.from('snapshot-1');

    const stored = t.queue.submit('jasper', [{ seq: 1, bytes }]);
    bytes.fill(0x78); // the stream's frame buffer may be reused at once
    await stored;

    expect(t.journal.writes).to.deep.equal([
      { records: [[M, 'jasper', 1, 'snapshot-1']], sync: true },
    ]);
  });

  it('gathers the next group while one is written', async () => {
    const t = setup();
    t.journal.holdNext();

    const first = t.queue.submit('jasper', [
      { seq: 1, bytes: Buffer.from('a') },
    ]);
    await new Promise((resolve) => setImmediate(resolve));
    const second = t.queue.submit('onyx', [
      { seq: 7, bytes: Buffer.from('b') },
    ]);
    const third = t.queue.submit('jasper', [
      { seq: 2, bytes: Buffer.from('c') },
    ]);
    t.journal.held.shift()!();
    await Promise.all([first, second, third]);

    expect(t.journal.writes.map((w) => w.records)).to.deep.equal([
      [[M, 'jasper', 1, 'a']],
      [
        [M, 'onyx', 7, 'b'],
        [M, 'jasper', 2, 'c'],
      ],
    ]);
  });

  it('writes applied marks after the messages, unsynced when alone', async () => {
    const t = setup();

    await t.queue.submit('jasper', [{ seq: 1, bytes: Buffer.from('a') }]);
    t.queue.markApplied('jasper', 1);
    t.queue.markApplied('jasper', 0); // lower: nothing new
    await t.queue.drain();
    await t.queue.submit('jasper', [{ seq: 2, bytes: Buffer.from('b') }]);
    t.queue.markApplied('jasper', 2);
    const third = t.queue.submit('jasper', [
      { seq: 3, bytes: Buffer.from('c') },
    ]);
    await third;

    expect(t.journal.writes).to.deep.equal([
      { records: [[M, 'jasper', 1, 'a']], sync: true },
      { records: [[A, 'jasper', 1, '']], sync: false },
      { records: [[M, 'jasper', 2, 'b']], sync: true },
      {
        records: [
          [M, 'jasper', 3, 'c'],
          [A, 'jasper', 2, ''],
        ],
        sync: true,
      },
    ]);
  });

  it('rejects a group whose write failed, names its nodes and goes on', async () => {
    const t = setup();
    t.journal.failNext();

    const lost = t.queue.submit('jasper', [
      { seq: 1, bytes: Buffer.from('a') },
    ]);
    const outcome = await lost.then(
      () => 'stored',
      (error: Error) => error.message,
    );
    await t.queue.submit('jasper', [{ seq: 1, bytes: Buffer.from('a') }]);

    expect(outcome).to.equal('ENOSPC: no space left on device');
    expect(t.failed).to.deep.equal([['jasper']]);
    expect(t.journal.writes.map((w) => w.records)).to.deep.equal([
      [[M, 'jasper', 1, 'a']],
    ]);
    expect(t.lines.map((line) => line.msg)).to.include('journal write failed');
  });

  it('drops what a node queued after a write of it failed', async () => {
    const t = setup();
    t.journal.holdNext();
    const outcome = (p: Promise<void>) =>
      p.then(
        () => 'stored',
        () => 'refused',
      );

    const lost = outcome(
      t.queue.submit('jasper', [
        { seq: 1, bytes: Buffer.from('a') },
        { seq: 2, bytes: Buffer.from('b') },
      ]),
    );
    await new Promise((resolve) => setImmediate(resolve));
    // A newer stream of jasper sends seq 3 while 1-2 are being written.
    const after = outcome(
      t.queue.submit('jasper', [{ seq: 3, bytes: Buffer.from('c') }]),
    );
    const other = outcome(
      t.queue.submit('onyx', [{ seq: 7, bytes: Buffer.from('x') }]),
    );
    t.journal.failNext();
    t.journal.held.shift()!();

    expect([await lost, await after, await other]).to.deep.equal([
      'refused',
      'refused',
      'stored',
    ]);
    expect(t.failed).to.deep.equal([['jasper']]);
    // The agent reconnects and sends again from what the journal holds.
    expect(
      await outcome(
        t.queue.submit('jasper', [
          { seq: 1, bytes: Buffer.from('a') },
          { seq: 2, bytes: Buffer.from('b') },
          { seq: 3, bytes: Buffer.from('c') },
        ]),
      ),
    ).to.equal('stored');
    expect(t.journal.writes.map((w) => w.records)).to.deep.equal([
      [[M, 'onyx', 7, 'x']],
      [
        [M, 'jasper', 1, 'a'],
        [M, 'jasper', 2, 'b'],
        [M, 'jasper', 3, 'c'],
      ],
    ]);
  });
});
