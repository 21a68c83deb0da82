/**
 * Group commit: accepted messages from every stream are copied into one
 * record buffer as they come; one loop writes all that are waiting to the
 * journal with a single fsync, then resolves each stream's promise so it
 * can ack. While a group is being written the next one gathers in a
 * second buffer, so fsyncs per second stay low whatever the message rate,
 * and a message's own buffer is free as soon as it is queued.
 *
 * "Applied" marks ride along with the next write, unsynced when nothing
 * else waits: a lost mark only means those messages are applied again at
 * the next start, which the sink is told to expect.
 */
import type { Logger } from '../../../shared/src/logger.ts';
import {
  RECORD_APPLIED,
  RECORD_MESSAGE,
  RecordBuffer,
} from './journal-format.ts';
import type { IngestJournal } from './journal.ts';

/** An accepted message's seq and the bytes it arrived as. */
export interface StoredMessage {
  seq: number;
  bytes: Buffer;
}

interface Pending {
  node: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Collaborators of the queue. */
export interface CommitQueueDeps {
  journal: Pick<IngestJournal, 'writeBuffer'>;
  logger: Logger;
  /**
   * Called with the nodes of a group whose journal write failed, before
   * their submissions are rejected.
   */
  onWriteFailed: (nodes: string[]) => void;
}

const EMPTY = Buffer.alloc(0);

/** The single writer in front of the journal. */
export class CommitQueue {
  private gathering = new RecordBuffer();
  private spare = new RecordBuffer();
  private waiting: Pending[] = [];
  private marks = new Map<string, number>();
  private running: Promise<void> | null = null;

  constructor(private readonly deps: CommitQueueDeps) {}

  /**
   * Queues a node's accepted messages (seq order), copying their bytes;
   * resolves once they are synced, rejects when the journal write failed.
   * An empty list resolves after everything queued before it.
   */
  submit(node: string, messages: readonly StoredMessage[]): Promise<void> {
    for (const { seq, bytes } of messages) {
      this.gathering.add({ kind: RECORD_MESSAGE, node, seq, payload: bytes });
    }
    const done = new Promise<void>((resolve, reject) => {
      this.waiting.push({ node, resolve, reject });
    });
    this.kick();
    return done;
  }

  /**
   * Notes that `node`'s messages up to `seq`, already stored, were
   * applied; written with the next group.
   */
  markApplied(node: string, seq: number): void {
    if (seq <= (this.marks.get(node) ?? 0)) return;
    this.marks.set(node, seq);
    this.kick();
  }

  /** Resolves when nothing is waiting or being written. */
  async drain(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  private kick(): void {
    this.running ??= this.run().finally(() => {
      this.running = null;
      // Queued after the loop's last look, before it ended.
      if (this.waiting.length > 0 || this.marks.size > 0) this.kick();
    });
  }

  private async run(): Promise<void> {
    while (this.waiting.length > 0 || this.marks.size > 0) {
      const group = this.waiting;
      this.waiting = [];
      for (const [node, seq] of this.marks) {
        this.gathering.add({ kind: RECORD_APPLIED, node, seq, payload: EMPTY });
      }
      this.marks.clear();
      const buffer = this.gathering;
      this.gathering = this.spare;
      await this.commit(buffer, group);
      buffer.clear();
      this.spare = buffer;
    }
  }

  private async commit(buffer: RecordBuffer, group: Pending[]): Promise<void> {
    try {
      await this.deps.journal.writeBuffer(buffer, group.length > 0);
    } catch (error) {
      if (group.length === 0) {
        this.deps.logger.warn({ err: error }, 'journal applied-mark failed');
        return;
      }
      this.deps.logger.error({ err: error }, 'journal write failed');
      this.fail(group, error as Error);
      return;
    }
    group.forEach((item) => item.resolve());
  }

  /**
   * Rejects a group whose write failed, and what its nodes queued since:
   * those later messages must not be stored before the lost ones, or the
   * journal would have a gap an ack covers. `onWriteFailed` then ends the
   * nodes' streams, so that nothing more of them comes before their agents
   * reconnect and send again from what the journal holds.
   */
  private fail(group: Pending[], error: Error): void {
    const nodes = new Set(group.map((item) => item.node));
    const later = this.waiting.filter((item) => nodes.has(item.node));
    if (later.length > 0) {
      this.waiting = this.waiting.filter((item) => !nodes.has(item.node));
      this.gathering.dropNodes(nodes);
    }
    this.deps.onWriteFailed([...nodes]);
    [...group, ...later].forEach((item) => item.reject(error));
  }
}
