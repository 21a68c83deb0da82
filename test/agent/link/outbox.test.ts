import { readdirSync } from 'node:fs';
import { expect } from 'chai';
import { Outbox } from '../../../agent/src/link/outbox.ts';
import {
  SeqReservation,
  SEQ_BLOCK,
} from '../../../agent/src/link/seq-reservation.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';
import { tempDir } from '../../support/link-harness.ts';

function options(dir: string, maxBytes = 1024 * 1024) {
  return { dir, maxBytes, memoryMaxBytes: 1024, thinIntervalMs: 10_000 };
}

function entry(seq: number, kind = 'snapshot', size = 100) {
  return { seq, kind, atMs: seq * 1000, bytes: Buffer.alloc(size, seq % 256) };
}

describe('Outbox', () => {
  it('gives entries after a seq in order, within the limits', async () => {
    const outbox = await Outbox.open(
      options(tempDir()),
      createMemoryLogger().logger,
    );
    for (let seq = 1; seq <= 10; seq += 1) outbox.push(entry(seq));

    const batch = outbox.after(3, {
      throughSeq: 8,
      maxMessages: 4,
      maxBytes: 1_000_000,
    });

    expect(batch.map((e) => e.seq)).to.deep.equal([4, 5, 6, 7]);
    expect(
      outbox
        .after(3, { throughSeq: 5, maxMessages: 9, maxBytes: 250 })
        .map((e) => e.seq),
    ).to.deep.equal([4, 5]);
    await outbox.close();
  });

  it('forgets acknowledged entries', async () => {
    const outbox = await Outbox.open(
      options(tempDir()),
      createMemoryLogger().logger,
    );
    for (let seq = 1; seq <= 5; seq += 1) outbox.push(entry(seq));

    outbox.ack(3);

    expect(outbox.counts()).to.deep.include({ messages: 2, bytes: 200 });
    await outbox.close();
  });

  it('restores spilled entries after a restart and reads their bytes from disk', async () => {
    const dir = tempDir();
    const first = await Outbox.open(options(dir), createMemoryLogger().logger);
    for (let seq = 1; seq <= 20; seq += 1) first.push(entry(seq));
    first.ack(5);
    await first.spill();
    await first.close();

    const second = await Outbox.open(options(dir), createMemoryLogger().logger);
    const batch = second.after(0, {
      throughSeq: 100,
      maxMessages: 100,
      maxBytes: 1_000_000,
    });

    expect(batch.map((e) => e.seq)).to.deep.equal(
      Array.from({ length: 15 }, (_, i) => i + 6),
    );
    expect(await second.bytesOf(batch[0]!)).to.deep.equal(entry(6).bytes);
    expect(second.counts()).to.deep.include({
      spilledMessages: 15,
      memoryBytes: 0,
    });
    await second.close();
  });

  it('keeps memory under its bound once spilled', async () => {
    const outbox = await Outbox.open(
      options(tempDir()),
      createMemoryLogger().logger,
    );
    for (let seq = 1; seq <= 50; seq += 1) outbox.push(entry(seq));

    await outbox.spill();

    expect(outbox.counts().memoryBytes).to.be.at.most(1024);
    await outbox.close();
  });

  it('deletes spill segments once acknowledged', async () => {
    const dir = tempDir();
    const outbox = await Outbox.open(options(dir), createMemoryLogger().logger);
    for (let seq = 1; seq <= 3; seq += 1)
      outbox.push(entry(seq, 'sli', 3 * 1024 * 1024));
    await outbox.spill();
    outbox.push(entry(4));
    await outbox.spill();

    outbox.ack(3);
    await outbox.spill();

    expect(
      readdirSync(dir).filter((name) => name.endsWith('.gws')),
    ).to.have.length(1);
    await outbox.close();
  });

  it('thins snapshots over the bound, counts them and keeps events', async () => {
    const { logger, lines } = createMemoryLogger();
    const outbox = await Outbox.open(options(tempDir(), 10_000), logger);
    let reported = 0;
    outbox.onThinned = (total) => (reported = total);

    for (let seq = 1; seq <= 200; seq += 1)
      outbox.push(entry(seq, seq % 10 === 0 ? 'guard' : 'snapshot'));

    const kinds = outbox
      .after(0, { throughSeq: 1000, maxMessages: 1000, maxBytes: 1e9 })
      .map((e) => e.kind);
    expect(kinds.filter((k) => k === 'guard')).to.have.length(20);
    expect(outbox.counts().bytes).to.be.at.most(10_000);
    expect(reported)
      .to.equal(outbox.counts().thinnedMessages)
      .and.to.be.greaterThan(0);
    expect(
      lines.some((line) => line.msg === 'outbox full, snapshots thinned'),
    ).to.equal(true);
    await outbox.close();
  });
});

describe('SeqReservation', () => {
  it('never hands out a seq twice across restarts', async () => {
    const dir = tempDir();
    const first = await SeqReservation.open(dir, createNodeFs());
    const a = [first.take(), first.take()];
    await first.settle();

    const second = await SeqReservation.open(dir, createNodeFs());

    expect(a).to.deep.equal([1, 2]);
    expect(second.take()).to.equal(SEQ_BLOCK + 1);
    expect(second.sendableThrough()).to.be.at.least(SEQ_BLOCK + 1);
  });

  it('reserves the next block before the current one runs out', async () => {
    const reservation = await SeqReservation.open(tempDir(), createNodeFs());

    for (let i = 0; i < SEQ_BLOCK; i += 1) reservation.take();
    await reservation.settle();

    expect(reservation.sendableThrough()).to.be.at.least(
      SEQ_BLOCK + SEQ_BLOCK / 2,
    );
  });
});
