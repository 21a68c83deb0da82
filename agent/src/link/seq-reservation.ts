/**
 * Sequence numbers that survive agent restarts. The agent persists, in
 * `link-state.json` (atomically), the highest seq it may use; it hands out
 * seqs below that and reserves the next block when half of the current one
 * is used. After a restart it starts above the last reservation, so no seq
 * is ever reused, whether or not the collector got the messages; the
 * unused rest of a block is a gap, which the collector accepts.
 */
import path from 'node:path';
import type { Fs } from '../../../shared/src/fs.ts';

/** Seqs reserved per write of the state file. */
export const SEQ_BLOCK = 10_000;

interface LinkStateFile {
  version: 1;
  /** Highest seq this agent may use before writing the file again. */
  reservedThroughSeq: number;
}

/** Hands out seqs; never one above what is persisted once it is sent. */
export class SeqReservation {
  private reserving: Promise<void> | null = null;

  private constructor(
    private readonly file: string,
    private readonly fs: Fs,
    private nextSeq: number,
    private persistedThrough: number,
  ) {}

  /** Reads the state file in `stateDir` and reserves a first block. */
  static async open(stateDir: string, fs: Fs): Promise<SeqReservation> {
    const file = path.join(stateDir, 'link-state.json');
    let lastReserved = 0;
    if (await fs.exists(file)) {
      const state = JSON.parse(
        await fs.readText(file),
      ) as Partial<LinkStateFile>;
      lastReserved = Number(state.reservedThroughSeq ?? 0);
    }
    const reservation = new SeqReservation(
      file,
      fs,
      lastReserved + 1,
      lastReserved,
    );
    await reservation.reserve();
    return reservation;
  }

  /** The next seq; reserves the next block in the background when due. */
  take(): number {
    const seq = this.nextSeq;
    this.nextSeq += 1;
    if (this.isDue()) {
      this.reserving ??= this.reserveWhileDue()
        .catch((error: unknown) => this.onReserveFailed(error))
        .finally(() => {
          this.reserving = null;
        });
    }
    return seq;
  }

  /** Called after each persisted reservation (the sender may go on). */
  onReserved: () => void = () => {};

  /** Called when the state file cannot be written (retried on next take). */
  onReserveFailed: (error: unknown) => void = () => {};

  private isDue(): boolean {
    return this.persistedThrough - (this.nextSeq - 1) < SEQ_BLOCK / 2;
  }

  private async reserveWhileDue(): Promise<void> {
    while (this.isDue()) {
      await this.reserve();
      this.onReserved();
    }
  }

  /** Highest seq that may leave the agent (persisted as reserved). */
  sendableThrough(): number {
    return this.persistedThrough;
  }

  /** The seq {@link take} gives next. */
  peekNext(): number {
    return this.nextSeq;
  }

  /** Waits for a reservation in progress. */
  async settle(): Promise<void> {
    while (this.reserving !== null) await this.reserving;
  }

  private async reserve(): Promise<void> {
    const through = this.nextSeq + SEQ_BLOCK - 1;
    const state: LinkStateFile = { version: 1, reservedThroughSeq: through };
    await this.fs.writeFileAtomic(this.file, `${JSON.stringify(state)}\n`);
    this.persistedThrough = Math.max(this.persistedThrough, through);
  }
}
