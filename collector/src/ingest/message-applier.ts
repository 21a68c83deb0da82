/**
 * Hands accepted messages to the sink the moment they are accepted, while
 * the journal stores them; a stream acks once both are done. Applying
 * first lets a decoded snapshot go as soon as the sink has it, instead of
 * living on through the journal write and the collector's garbage
 * collections.
 *
 * Each node's messages reach the sink in seq order, one call after the
 * other, and each once per collector run: when a journal write fails the
 * agent sends those messages again, and they are stored but not applied
 * a second time. After a crash the agent may send again what was applied
 * but not yet stored; the sink is told to expect that (`message-sink.ts`).
 */
import type { Clock } from '../../../shared/src/clock.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { AgentMessage } from '../../../shared/src/messages.ts';
import type { FleetState } from './fleet-state.ts';
import type { MessageSink } from './message-sink.ts';

/** Collaborators of the applier. */
export interface MessageApplierDeps {
  sink: MessageSink;
  fleet: FleetState;
  logger: Logger;
  clock: Clock;
  /** Highest seq of a node in the journal (all applied by then). */
  storedSeq: (node: string) => number;
}

/** Applies accepted messages in order, once each. */
export class MessageApplier {
  /** Highest seq handed to the sink per node in this run. */
  private readonly appliedSeq = new Map<string, number>();
  /** Lowest seq per node the sink failed on in this run. */
  private readonly failedFrom = new Map<string, number>();
  /** The latest apply of each node, which the next one waits for. */
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: MessageApplierDeps) {}

  /**
   * Applies those of `messages` (seq order) not applied in this run yet,
   * after the node's earlier ones. Resolves with the seq up to which the
   * node's messages, these included, are applied and may be marked so in
   * the journal; null when none may. Once the sink failed on a message
   * (logged), marks stay below it for the rest of the run, so that the
   * journal offers it again at the next start.
   */
  apply(
    node: string,
    messages: readonly AgentMessage[],
  ): Promise<number | null> {
    const lastSeq = messages.at(-1)?.seq ?? 0;
    const after = this.appliedSeq.get(node) ?? this.deps.storedSeq(node);
    const fresh = messages.filter((message) => message.seq > after);
    const tail = this.tails.get(node) ?? Promise.resolve();
    let done = tail;
    if (fresh.length > 0) {
      this.appliedSeq.set(node, fresh[fresh.length - 1]!.seq);
      done = tail.then(() => this.applyNow(node, fresh));
      this.tails.set(node, done);
    }
    return done.then(() => this.markable(node, lastSeq));
  }

  /**
   * Resolves true once every apply begun so far has finished, or false
   * after `limitMs` if the sink still has some (it may hang).
   */
  drain(limitMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const cancel = this.deps.clock.setTimeout(() => resolve(false), limitMs);
      void Promise.all(this.tails.values()).then(() => {
        cancel();
        resolve(true);
      });
    });
  }

  private markable(node: string, seq: number): number | null {
    const failed = this.failedFrom.get(node);
    const upTo = failed === undefined ? seq : Math.min(seq, failed - 1);
    return upTo >= 1 ? upTo : null;
  }

  private async applyNow(node: string, messages: AgentMessage[]) {
    try {
      await this.deps.sink.apply(node, messages);
    } catch (error) {
      const fromSeq = messages[0]!.seq;
      this.failedFrom.set(
        node,
        Math.min(fromSeq, this.failedFrom.get(node) ?? fromSeq),
      );
      this.deps.logger.error(
        { err: error, node, fromSeq },
        'sink failed to apply messages; the journal offers them again at next start',
      );
      return;
    }
    this.deps.fleet.applied(node, messages);
  }
}
