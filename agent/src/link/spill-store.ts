/**
 * The outbox's files: spill segments `spill-<12 digits>.gws` in the
 * outbox directory (format in `spill-format.ts`). Appends are fsynced, so
 * what the outbox spilled survives the agent being killed or the host
 * losing power. A segment is closed at {@link SPILL_SEGMENT_BYTES}.
 */
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { encodeSpillRecord, parseSpillSegment } from './spill-format.ts';
import type { SpillRecord } from './spill-format.ts';

/** Size at which a spill segment is closed. */
export const SPILL_SEGMENT_BYTES = 4 * 1024 * 1024;

const SEGMENT_PATTERN = /^spill-(\d{12})\.gws$/;

/** A spilled record and the segment holding it. */
export interface StoredRecord {
  segment: number;
  record: SpillRecord;
}

/** Spill segments on disk. */
export class SpillStore {
  private handle: FileHandle | null = null;
  private currentBytes = 0;

  private constructor(
    private readonly dir: string,
    private current: number,
  ) {}

  /** Opens the directory and reads every readable spilled record, in order. */
  static async open(
    dir: string,
  ): Promise<{ store: SpillStore; stored: StoredRecord[] }> {
    await mkdir(dir, { recursive: true });
    const numbers = (await readdir(dir))
      .map((name) => SEGMENT_PATTERN.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const stored: StoredRecord[] = [];
    for (const segment of numbers) {
      const parsed = parseSpillSegment(
        await readFile(segmentFile(dir, segment)),
      );
      for (const record of parsed.records) stored.push({ segment, record });
    }
    const store = new SpillStore(dir, (numbers.at(-1) ?? 0) + 1);
    return { store, stored };
  }

  /** The segment the next append goes to. */
  currentSegment(): number {
    return this.current;
  }

  /** Appends records to the current segment and fsyncs; returns its number. */
  async append(records: readonly SpillRecord[]): Promise<number> {
    const segment = this.current;
    const bytes = Buffer.concat(records.map(encodeSpillRecord));
    this.handle ??= await open(segmentFile(this.dir, segment), 'a');
    await this.handle.writeFile(bytes);
    await this.handle.datasync();
    this.currentBytes += bytes.length;
    if (this.currentBytes >= SPILL_SEGMENT_BYTES) await this.rotate();
    return segment;
  }

  /** Reads a segment's records. */
  async read(segment: number): Promise<SpillRecord[]> {
    const bytes = await readFile(segmentFile(this.dir, segment));
    return parseSpillSegment(bytes).records;
  }

  /** Deletes a closed segment. */
  async remove(segment: number): Promise<void> {
    if (segment === this.current) return;
    await rm(segmentFile(this.dir, segment), { force: true });
  }

  /** Rewrites a closed segment with only the records `keep` accepts. */
  async rewrite(
    segment: number,
    keep: (seq: number) => boolean,
  ): Promise<void> {
    if (segment === this.current) await this.rotate();
    const records = (await this.read(segment)).filter((r) => keep(r.seq));
    const file = segmentFile(this.dir, segment);
    const temp = `${file}.tmp`;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(Buffer.concat(records.map(encodeSpillRecord)));
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  }

  /** Closes the open segment. */
  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }

  private async rotate(): Promise<void> {
    await this.close();
    this.current += 1;
    this.currentBytes = 0;
  }
}

function segmentFile(dir: string, segment: number): string {
  return path.join(dir, `spill-${String(segment).padStart(12, '0')}.gws`);
}
