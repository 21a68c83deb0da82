import { appendFileSync, readdirSync, statSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import {
  encodeRecord,
  encodeRecords,
  parseSegment,
  RECORD_APPLIED,
  RECORD_MESSAGE,
  RecordBuffer,
} from '../../../collector/src/ingest/journal-format.ts';
import {
  IngestJournal,
  readJournal,
  writeAll,
} from '../../../collector/src/ingest/journal.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';
import { tempDir } from '../../support/link-harness.ts';

const MIB = 1024 * 1024;

function message(node: string, seq: number, size = 10) {
  return {
    kind: RECORD_MESSAGE as typeof RECORD_MESSAGE,
    node,
    seq,
    payload: Buffer.alloc(size, seq % 256),
  };
}

function applied(node: string, seq: number) {
  return {
    kind: RECORD_APPLIED as typeof RECORD_APPLIED,
    node,
    seq,
    payload: Buffer.alloc(0),
  };
}

async function open(
  dir: string,
  options: Partial<{ segmentBytes: number; maxBytes: number }> = {},
) {
  const { logger, lines } = createMemoryLogger();
  const journal = await IngestJournal.open(
    { dir, segmentBytes: MIB, maxBytes: 8 * MIB, ...options },
    { logger, fs: createNodeFs() },
  );
  return { journal, lines };
}

describe('journal format', () => {
  it('parses records back, large seqs included', () => {
    const records = [message('jasper', 2 ** 40 + 3), applied('onyx', 7)];

    const parsed = parseSegment(Buffer.concat(records.map(encodeRecord)));

    expect(parsed.stopReason).to.equal(null);
    expect(parsed.records).to.deep.equal(records);
  });

  it('stops at a corrupt record', () => {
    const bytes = Buffer.concat([
      encodeRecord(message('jasper', 1)),
      encodeRecord(message('jasper', 2)),
    ]);
    bytes.writeUInt8(
      bytes.readUInt8(bytes.length - 1) ^ 0xff,
      bytes.length - 1,
    );

    const parsed = parseSegment(bytes);

    expect(parsed.records.map((r) => r.seq)).to.deep.equal([1]);
    expect(parsed.stopReason).to.equal('checksum mismatch');
  });
});

describe('IngestJournal', () => {
  it('rebuilds the last seq per node when reopened', async () => {
    const dir = tempDir();
    const first = await open(dir);
    await first.journal.write(
      [message('jasper', 1), message('jasper', 2), message('onyx', 9)],
      true,
    );
    await first.journal.close();

    const second = await open(dir);

    expect(second.journal.lastSeq('jasper')).to.equal(2);
    expect(second.journal.lastSeq('onyx')).to.equal(9);
    expect(second.journal.lastSeq('basalt')).to.equal(0);
    await second.journal.close();
  });

  it('cuts a torn tail off and warns', async () => {
    const dir = tempDir();
    const first = await open(dir);
    await first.journal.write([message('jasper', 1)], true);
    await first.journal.close();
    const segment = readdirSync(dir).find((name) => name.endsWith('.gwj'))!;
    const goodSize = statSync(path.join(dir, segment)).size;
    appendFileSync(
      path.join(dir, segment),
      encodeRecord(message('jasper', 2)).subarray(0, 12),
    );

    const second = await open(dir);

    expect(second.journal.lastSeq('jasper')).to.equal(1);
    expect(statSync(path.join(dir, segment)).size).to.equal(goodSize);
    expect(
      second.lines.some(
        (line) => line.msg === 'journal tail cut off after a crash',
      ),
    ).to.equal(true);
    await second.journal.close();
  });

  it('cuts off what a failed write left, so later records stay readable', async () => {
    const dir = tempDir();
    const { journal, lines } = await open(dir);
    await journal.write([message('jasper', 1)], true);
    // The disk fills up halfway through the next write.
    const handle = (journal as unknown as { handle: FileHandle }).handle;
    const write = handle.write.bind(handle);
    handle.write = (async (buf: Buffer, offset: number, length: number) => {
      await write(buf, offset, Math.floor(length / 2));
      throw new Error('ENOSPC: no space left on device');
    }) as unknown as typeof handle.write;

    const failed = await journal
      .write([message('jasper', 2, 500)], true)
      .catch((error: Error) => error.message);
    handle.write = write as typeof handle.write;
    await journal.write([message('jasper', 2, 500)], true);
    await journal.close();

    expect(failed).to.equal('ENOSPC: no space left on device');
    const read = [];
    for await (const record of readJournal(dir)) read.push(record);
    expect(read).to.deep.equal([
      message('jasper', 1),
      message('jasper', 2, 500),
    ]);
    const again = await open(dir);
    expect(again.journal.lastSeq('jasper')).to.equal(2);
    expect([...lines, ...again.lines].map((line) => line.msg)).to.not.include(
      'journal tail cut off after a crash',
    );
    await again.journal.close();
  });

  it('keeps a write that was stored when starting the next segment fails', async () => {
    const dir = tempDir();
    const { journal, lines } = await open(dir, { segmentBytes: 1000 });
    const handle = (journal as unknown as { handle: FileHandle }).handle;
    const datasync = handle.datasync.bind(handle);
    let syncs = 0;
    // The write's own fsync works; the full segment's last one does not.
    handle.datasync = async () => {
      syncs += 1;
      if (syncs === 2) throw new Error('EIO: i/o error, fsync');
      return datasync();
    };

    await journal.write([message('jasper', 1, 2000)], true);
    await journal.write([message('jasper', 2)], true);
    await journal.close();

    const read = [];
    for await (const record of readJournal(dir)) read.push(record.seq);
    expect(read).to.deep.equal([1, 2]);
    expect(lines.map((line) => line.msg)).to.include(
      'journal could not flush or close a full segment',
    );
  });

  it('hands back the messages after the last applied mark', async () => {
    const dir = tempDir();
    const first = await open(dir);
    await first.journal.write(
      [message('jasper', 1), message('jasper', 2), message('onyx', 1)],
      true,
    );
    await first.journal.write([applied('jasper', 1)], true);
    await first.journal.write([message('jasper', 3)], true);
    await first.journal.close();

    const second = await open(dir);

    expect(
      second.journal.takeUnapplied().map((r) => `${r.node}:${r.seq}`),
    ).to.deep.equal(['jasper:2', 'jasper:3', 'onyx:1']);
    expect(second.journal.takeUnapplied()).to.deep.equal([]);
    await second.journal.close();
  });

  it('writes a group of many records in one buffer', async () => {
    const dir = tempDir();
    const { journal } = await open(dir);
    const records = Array.from({ length: 1500 }, (_, i) =>
      message('jasper', i + 1, 100 + (i % 7)),
    );
    await journal.write(records, true);
    await journal.close();

    const read = [];
    for await (const record of readJournal(dir)) read.push(record);
    expect(read).to.deep.equal(records);
  });

  it('continues a short write where it stopped', async () => {
    const out: string[] = [];
    const handle = {
      // Writes at most 3 bytes per call, as a disk that is nearly full may.
      write: async (buf: Buffer, offset: number, length: number) => {
        const bytesWritten = Math.min(3, length);
        out.push(buf.toString('utf8', offset, offset + bytesWritten));
        return { bytesWritten, buffer: buf };
      },
    };

    await writeAll(handle as never, Buffer.from('abcdefgh'));

    expect(out).to.deep.equal(['abc', 'def', 'gh']);
  });

  it('fails a write that makes no progress instead of looping', async () => {
    const handle = {
      write: async (buf: Buffer) => ({ bytesWritten: 0, buffer: buf }),
    };

    let error: Error | null = null;
    await writeAll(handle as never, Buffer.from('abc')).catch(
      (e: Error) => (error = e),
    );

    expect(error).to.have.property('message', 'journal write made no progress');
  });

  it('retires old segments above maxBytes and remembers their seqs', async () => {
    const dir = tempDir();
    const first = await open(dir, { segmentBytes: MIB, maxBytes: 2 * MIB });
    for (let seq = 1; seq <= 40; seq += 1) {
      await first.journal.write(
        [message('jasper', seq, 200 * 1024), applied('jasper', seq)],
        true,
      );
    }
    await first.journal.close();

    const second = await open(dir, { segmentBytes: MIB, maxBytes: 2 * MIB });
    const seqs: number[] = [];
    for await (const record of readJournal(dir))
      if (record.kind === RECORD_MESSAGE) seqs.push(record.seq);

    expect(second.journal.sizeBytes()).to.be.at.most(3 * MIB);
    expect(seqs[0]).to.be.greaterThan(1);
    expect(seqs.at(-1)).to.equal(40);
    expect(second.journal.lastSeq('jasper')).to.equal(40);
    expect(second.journal.takeUnapplied()).to.deep.equal([]);
    await second.journal.close();
  });
});

describe('RecordBuffer', () => {
  it('holds records that parse back, copied from their payloads', () => {
    const buffer = new RecordBuffer();
    const first = message('jasper', 7, 70 * 1024);
    const records = [first, applied('jasper', 5), message('onyx', 3, 0)];

    records.forEach((record) => buffer.add(record));
    const parsed = parseSegment(Buffer.from(buffer.bytes()));
    first.payload.fill(0xff);

    expect(parsed.records.map((r) => [r.kind, r.node, r.seq])).to.deep.equal(
      records.map((r) => [r.kind, r.node, r.seq]),
    );
    expect(parsed.records[0]!.payload).to.deep.equal(
      Buffer.alloc(70 * 1024, 7),
    );
    expect(buffer.size).to.equal(encodeRecords(records).length);
    expect([...buffer.messageSeqs]).to.deep.equal([
      ['jasper', 7],
      ['onyx', 3],
    ]);
    expect([...buffer.appliedSeqs]).to.deep.equal([['jasper', 5]]);
  });

  it('is empty after clear and used again', () => {
    const buffer = new RecordBuffer();
    buffer.add(message('jasper', 1, 100));
    buffer.clear();
    buffer.add(message('jasper', 2, 10));

    expect(parseSegment(Buffer.from(buffer.bytes())).records).to.deep.equal([
      message('jasper', 2, 10),
    ]);
    expect([...buffer.messageSeqs]).to.deep.equal([['jasper', 2]]);
  });
});

describe('RecordBuffer size', () => {
  const group = (buffer: RecordBuffer, bytes: number) => {
    buffer.add(message('jasper', 1, bytes));
    buffer.clear();
  };

  it('keeps its size while groups stay that big', () => {
    const buffer = new RecordBuffer();
    group(buffer, 20 * MIB);
    const capacity = buffer.capacity;

    for (let i = 0; i < 10; i += 1) group(buffer, 20 * MIB);

    expect(capacity).to.be.at.least(20 * MIB);
    expect(buffer.capacity).to.equal(capacity);
  });

  it('shrinks once groups have been small for a while', () => {
    const buffer = new RecordBuffer();
    group(buffer, 8 * MIB);

    for (let i = 0; i < 60; i += 1) group(buffer, 1000);

    expect(buffer.capacity).to.be.below(MIB);
  });
});

describe('encodeRecords()', () => {
  it('writes records back to back that parse like encodeRecord', () => {
    const records = [
      message('jasper', 12, 300),
      applied('jasper', 12),
      message('ønyx', 2 ** 40, 0),
    ];

    const bytes = encodeRecords(records);

    expect(bytes).to.deep.equal(Buffer.concat(records.map(encodeRecord)));
    expect(parseSegment(bytes)).to.deep.equal({
      records,
      validBytes: bytes.length,
      stopReason: null,
    });
  });
});
