/**
 * Group commit: accepted messages from every stream wait here; one loop
 * writes all that are waiting to the journal with a single fsync, applies
 * them to the sink per node, marks them applied, then resolves each
 * stream's promise so it can ack. While a group is being written the next
 * one gathers, so fsyncs per second stay low whatever the message rate.
 */
import type { Logger } from '../../../shared/src/logger.ts';
import type { AgentMessage } from '../../../shared/src/messages.ts';
import type { FleetState } from './fleet-state.ts';
import { RECORD_APPLIED, RECORD_MESSAGE } from './journal-format.ts';
import type { JournalRecord } from './journal-format.ts';
import type { IngestJournal } from './journal.ts';
import type { MessageSink } from './message-sink.ts';

/** An accepted message with the bytes it arrived as. */
export interface AcceptedMessage {
  message: AgentMessage;
  bytes: Buffer;
}

interface Pending {
  node: string;
  messages: AcceptedMessage[];
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Collaborators of the queue. */
export interface CommitQueueDeps {
  journal: IngestJournal;
  sink: MessageSink;
  fleet: FleetState;
  logger: Logger;
  /** Called with the nodes of a group whose journal write failed. */
  onWriteFailed: (nodes: string[]) => void;
}

/** The single writer in front of the journal and the sink. */
export class CommitQueue {
  private waiting: Pending[] = [];
  private running: Promise<void> | null = null;

  constructor(private readonly deps: CommitQueueDeps) {}

  /**
   * Queues a node's accepted messages (seq order); resolves once they are
   * synced and applied, rejects when the journal write failed. An empty
   * list resolves after everything queued before it.
   */
  submit(node: string, messages: AcceptedMessage[]): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.waiting.push({ node, messages, resolve, reject });
    });
    this.running ??= this.run().finally(() => {
      this.running = null;
    });
    return done;
  }

  /** Resolves when nothing is waiting or being written. */
  async drain(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  private async run(): Promise<void> {
    while (this.waiting.length > 0) {
      const group = this.waiting;
      this.waiting = [];
      await this.commit(group);
    }
  }

  private async commit(group: Pending[]): Promise<void> {
    const records: JournalRecord[] = [];
    for (const item of group) {
      for (const { message, bytes } of item.messages) {
        records.push({
          kind: RECORD_MESSAGE,
          node: item.node,
          seq: message.seq,
          payload: bytes,
        });
      }
    }
    try {
      await this.deps.journal.write(records, true);
    } catch (error) {
      this.deps.logger.error({ err: error }, 'journal write failed');
      this.deps.onWriteFailed([...new Set(group.map((item) => item.node))]);
      group.forEach((item) => item.reject(error as Error));
      return;
    }
    await this.applyAll(group);
    group.forEach((item) => item.resolve());
  }

  private async applyAll(group: Pending[]): Promise<void> {
    const byNode = new Map<string, AgentMessage[]>();
    for (const item of group) {
      const list = byNode.get(item.node) ?? [];
      for (const accepted of item.messages) list.push(accepted.message);
      byNode.set(item.node, list);
    }
    const marks: JournalRecord[] = [];
    await Promise.all(
      [...byNode].map(async ([node, messages]) => {
        if (messages.length === 0) return;
        const applied = await this.applyOne(node, messages);
        if (!applied) return;
        this.deps.fleet.applied(node, messages);
        const seq = messages[messages.length - 1]!.seq;
        marks.push({ kind: RECORD_APPLIED, node, seq, payload: EMPTY });
      }),
    );
    await this.deps.journal.write(marks, false).catch((error: unknown) => {
      // A lost mark only means these messages are applied again at the
      // next start; the sink is told to expect that.
      this.deps.logger.warn({ err: error }, 'journal applied-mark failed');
    });
  }

  private async applyOne(node: string, messages: AgentMessage[]) {
    try {
      await this.deps.sink.apply(node, messages);
      return true;
    } catch (error) {
      this.deps.logger.error(
        { err: error, node, fromSeq: messages[0]!.seq },
        'sink failed to apply messages; they are journaled and retried at next start',
      );
      return false;
    }
  }
}

const EMPTY = Buffer.alloc(0);
