/**
 * The ingest journal: every accepted agent message, appended to segment
 * files and fsynced once per group of messages before any of them is
 * acknowledged. It is what makes acks durable and what deduplicates by
 * (node, seq) across collector restarts.
 *
 * Layout in `dir`: `segment-<12 digits>.gwj` files (format in
 * `journal-format.ts`) and `checkpoint.json`, which keeps the highest seq
 * per node of segments that retention deleted. A segment is closed once it
 * reaches `segmentBytes`; the oldest closed segments are deleted while all
 * of them together exceed `maxBytes`. On open, every segment is read: the
 * highest seq per node is rebuilt, a torn tail of the newest segment (a
 * write a crash cut short, never acknowledged) is cut off, and the messages
 * after the last "applied" mark of each node are handed back so they can be
 * applied again.
 */
import { open, readdir, readFile, rm, truncate } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import {
  parseSegment,
  RECORD_APPLIED,
  RECORD_MESSAGE,
  RecordBuffer,
} from './journal-format.ts';
import type { JournalRecord } from './journal-format.ts';

/** Where and how big the journal is. */
export interface JournalOptions {
  dir: string;
  /** A segment is closed at this size; default 64 MiB. */
  segmentBytes: number;
  /** Closed segments are deleted, oldest first, above this; default 1 GiB. */
  maxBytes: number;
}

/** Collaborators of the journal. */
export interface JournalDeps {
  logger: Logger;
  fs: Fs;
}

interface Segment {
  number: number;
  file: string;
  sizeBytes: number;
}

interface Checkpoint {
  version: 1;
  lastSeq: Record<string, number>;
  appliedSeq: Record<string, number>;
}

const SEGMENT_PATTERN = /^segment-(\d{12})\.gwj$/;

function segmentName(number: number): string {
  return `segment-${String(number).padStart(12, '0')}.gwj`;
}

/** Lists a journal directory's segments in order. */
async function listSegments(dir: string): Promise<Segment[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .map((name) => SEGMENT_PATTERN.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({
      number: Number(match[1]),
      file: path.join(dir, match[0]),
      sizeBytes: 0,
    }))
    .sort((a, b) => a.number - b.number);
}

/** Reads every readable record of a journal directory, oldest first. */
export async function* readJournal(dir: string): AsyncGenerator<JournalRecord> {
  for (const segment of await listSegments(dir)) {
    const parsed = parseSegment(await readFile(segment.file));
    yield* parsed.records;
  }
}

/** The open journal. Not safe for two writers: one collector per dir. */
export class IngestJournal {
  private handle: FileHandle | null = null;
  private recovered: JournalRecord[] = [];

  private constructor(
    private readonly options: JournalOptions,
    private readonly deps: JournalDeps,
    private readonly segments: Segment[],
    private readonly lastSeqByNode: Map<string, number>,
    private readonly appliedByNode: Map<string, number>,
  ) {}

  /** Opens (and recovers) the journal in `options.dir`. */
  static async open(
    options: JournalOptions,
    deps: JournalDeps,
  ): Promise<IngestJournal> {
    await deps.fs.mkdir(options.dir);
    const checkpoint = await readCheckpoint(options.dir, deps.fs);
    const journal = new IngestJournal(
      options,
      deps,
      await listSegments(options.dir),
      new Map(Object.entries(checkpoint.lastSeq)),
      new Map(Object.entries(checkpoint.appliedSeq)),
    );
    await journal.recover();
    await journal.openNewSegment();
    return journal;
  }

  /** Highest seq of `node` in the journal; 0 when none. */
  lastSeq(node: string): number {
    return this.lastSeqByNode.get(node) ?? 0;
  }

  /**
   * Messages found after their node's last "applied" mark when the journal
   * was opened, in order; handed out once.
   */
  takeUnapplied(): JournalRecord[] {
    const records = this.recovered;
    this.recovered = [];
    return records;
  }

  /** Bytes in all segments. */
  sizeBytes(): number {
    return this.segments.reduce((sum, s) => sum + s.sizeBytes, 0);
  }

  /**
   * Appends records in one write; with `sync`, returns after fsync. Message
   * records raise the node's last seq once written. Nothing to write is a
   * no-op: earlier writes were synced by their own callers.
   */
  async write(records: readonly JournalRecord[], sync: boolean): Promise<void> {
    if (records.length === 0) return;
    const buffer = new RecordBuffer(0);
    for (const record of records) buffer.add(record);
    await this.writeBuffer(buffer, sync);
  }

  /**
   * Appends the records encoded in `buffer` in one write; with `sync`,
   * returns after fsync. The buffer must stay unchanged until then.
   */
  async writeBuffer(buffer: RecordBuffer, sync: boolean): Promise<void> {
    if (buffer.size === 0) return;
    const handle = this.requireHandle();
    try {
      await writeAll(handle, buffer.bytes());
      if (sync) await handle.datasync();
    } catch (error) {
      await this.cutFailedWrite(handle);
      throw error;
    }
    this.current().sizeBytes += buffer.size;
    raise(this.lastSeqByNode, buffer.messageSeqs);
    raise(this.appliedByNode, buffer.appliedSeqs);
    if (this.current().sizeBytes >= this.options.segmentBytes) {
      // The records are stored: a failed rotation must not fail the write.
      await this.rotate().catch((error: unknown) =>
        this.deps.logger.error(
          { err: error, file: this.current().file },
          'journal cannot start a new segment; the current one grows until it can',
        ),
      );
    }
  }

  /**
   * Cuts what a failed write may have left at the end of the segment, so
   * that records written after it stay readable; when even that fails,
   * goes on in a new segment (the cut-off tail is then skipped on reading).
   */
  private async cutFailedWrite(handle: FileHandle): Promise<void> {
    const segment = this.current();
    try {
      await handle.truncate(segment.sizeBytes);
    } catch (error) {
      this.deps.logger.error(
        { err: error, file: segment.file },
        'journal cannot cut off a failed write; going on in a new segment',
      );
      await this.rotate().catch((rotateError: unknown) =>
        this.deps.logger.error(
          { err: rotateError },
          'journal cannot start a new segment either; writes fail until it can',
        ),
      );
    }
  }

  /** Flushes and closes the current segment. */
  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    if (handle === null) return;
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }

  private requireHandle(): FileHandle {
    if (this.handle === null) throw new Error('journal is closed');
    return this.handle;
  }

  private current(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  private noteRecord(record: JournalRecord): void {
    const map =
      record.kind === RECORD_MESSAGE ? this.lastSeqByNode : this.appliedByNode;
    if (record.seq > (map.get(record.node) ?? 0)) {
      map.set(record.node, record.seq);
    }
  }

  private async recover(): Promise<void> {
    const pending = new Map<string, JournalRecord[]>();
    for (const [i, segment] of this.segments.entries()) {
      const isNewest = i === this.segments.length - 1;
      const records = await this.readSegment(segment, isNewest);
      for (const record of records) {
        const applied = this.appliedByNode.get(record.node) ?? 0;
        if (record.kind === RECORD_APPLIED || record.seq > applied) {
          trackUnapplied(pending, record);
        }
        this.noteRecord(record);
      }
    }
    this.recovered = [...pending.values()].flat();
  }

  private async readSegment(
    segment: Segment,
    isNewest: boolean,
  ): Promise<JournalRecord[]> {
    const bytes = await readFile(segment.file);
    const parsed = parseSegment(bytes);
    segment.sizeBytes = parsed.validBytes;
    if (parsed.stopReason === null) return parsed.records;
    const fields = {
      file: segment.file,
      reason: parsed.stopReason,
      droppedBytes: bytes.length - parsed.validBytes,
    };
    if (isNewest) {
      this.deps.logger.warn(fields, 'journal tail cut off after a crash');
      await truncate(segment.file, parsed.validBytes);
    } else {
      this.deps.logger.error(fields, 'journal segment corrupt, rest skipped');
    }
    return parsed.records;
  }

  private async openNewSegment(): Promise<void> {
    const number = (this.segments.at(-1)?.number ?? 0) + 1;
    const file = path.join(this.options.dir, segmentName(number));
    this.handle = await open(file, 'a');
    this.segments.push({ number, file, sizeBytes: 0 });
  }

  /**
   * Goes on in a new segment. The new one is opened first, so that when
   * that fails the current one stays in use; flushing and closing the old
   * one, and retention, only log their failures.
   */
  private async rotate(): Promise<void> {
    const old = this.handle;
    const oldFile = this.current().file;
    await this.openNewSegment();
    if (old !== null) {
      await old
        .datasync()
        .finally(() => old.close())
        .catch((error: unknown) =>
          this.deps.logger.warn(
            { err: error, file: oldFile },
            'journal could not flush or close a full segment',
          ),
        );
    }
    await this.applyRetention().catch((error: unknown) =>
      this.deps.logger.error(
        { err: error },
        'journal retention failed; old segments stay until the next rotation',
      ),
    );
  }

  private async applyRetention(): Promise<void> {
    if (this.sizeBytes() <= this.options.maxBytes || this.segments.length < 2) {
      return;
    }
    await this.writeCheckpoint();
    while (
      this.sizeBytes() > this.options.maxBytes &&
      this.segments.length > 1
    ) {
      const oldest = this.segments.shift()!;
      await rm(oldest.file, { force: true });
      this.deps.logger.info(
        { file: oldest.file, sizeBytes: oldest.sizeBytes },
        'journal segment retired',
      );
    }
  }

  private async writeCheckpoint(): Promise<void> {
    const checkpoint: Checkpoint = {
      version: 1,
      lastSeq: Object.fromEntries(this.lastSeqByNode),
      appliedSeq: Object.fromEntries(this.appliedByNode),
    };
    await this.deps.fs.writeFileAtomic(
      path.join(this.options.dir, 'checkpoint.json'),
      `${JSON.stringify(checkpoint)}\n`,
    );
  }
}

/** What {@link writeAll} needs of a file handle. */
export type WritableHandle = Pick<FileHandle, 'write'>;

/**
 * Writes all of `bytes` at the file's position, continuing after a short
 * write.
 */
export async function writeAll(
  handle: WritableHandle,
  bytes: Buffer,
): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(
      bytes,
      written,
      bytes.length - written,
    );
    if (bytesWritten === 0) throw new Error('journal write made no progress');
    written += bytesWritten;
  }
}

/** Raises each node's seq in `into` to the one in `from` where higher. */
function raise(into: Map<string, number>, from: Map<string, number>): void {
  for (const [node, seq] of from) {
    if (seq > (into.get(node) ?? 0)) into.set(node, seq);
  }
}

function trackUnapplied(
  pending: Map<string, JournalRecord[]>,
  record: JournalRecord,
): void {
  const list = pending.get(record.node) ?? [];
  if (record.kind === RECORD_APPLIED) {
    pending.set(
      record.node,
      list.filter((r) => r.seq > record.seq),
    );
    return;
  }
  list.push(record);
  pending.set(record.node, list);
}

async function readCheckpoint(dir: string, fs: Fs): Promise<Checkpoint> {
  const file = path.join(dir, 'checkpoint.json');
  const empty: Checkpoint = { version: 1, lastSeq: {}, appliedSeq: {} };
  if (!(await fs.exists(file))) return empty;
  const parsed = JSON.parse(await fs.readText(file)) as Partial<Checkpoint>;
  return {
    version: 1,
    lastSeq: parsed.lastSeq ?? {},
    appliedSeq: parsed.appliedSeq ?? {},
  };
}
