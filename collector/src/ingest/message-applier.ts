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
import type { Logger } from '../../../shared/src/logger.ts';
import type { AgentMessage } from '../../../shared/src/messages.ts';
import type { FleetState } from './fleet-state.ts';
import type { MessageSink } from './message-sink.ts';

/** Collaborators of the applier. */
export interface MessageApplierDeps {
  sink: MessageSink;
  fleet: FleetState;
  logger: Logger;
  /** Highest seq of a node in the journal (all applied by then). */
  storedSeq: (node: string) => number;
}

/** Applies accepted messages in order, once each. */
export class MessageApplier {
  /** Highest seq handed to the sink per node in this run. */
  private readonly appliedSeq = new Map<string, number>();
  /** The latest apply of each node, which the next one waits for. */
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: MessageApplierDeps) {}

  /**
   * Applies those of `messages` (seq order) not applied in this run yet,
   * after the node's earlier ones. Resolves true once the sink took them,
   * false when it failed (logged; the journal offers them again at the
   * next start).
   */
  apply(node: string, messages: readonly AgentMessage[]): Promise<boolean> {
    const after = this.appliedSeq.get(node) ?? this.deps.storedSeq(node);
    const fresh = messages.filter((message) => message.seq > after);
    const tail = this.tails.get(node) ?? Promise.resolve();
    if (fresh.length === 0) return tail.then(() => true);
    this.appliedSeq.set(node, fresh[fresh.length - 1]!.seq);
    const done = tail.then(() => this.applyNow(node, fresh));
    this.tails.set(node, done);
    return done;
  }

  private async applyNow(
    node: string,
    messages: AgentMessage[],
  ): Promise<boolean> {
    try {
      await this.deps.sink.apply(node, messages);
    } catch (error) {
      this.deps.logger.error(
        { err: error, node, fromSeq: messages[0]!.seq },
        'sink failed to apply messages; once journaled they are offered again at next start',
      );
      return false;
    }
    this.deps.fleet.applied(node, messages);
    return true;
  }
}
