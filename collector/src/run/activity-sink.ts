/**
 * What the collector adds on top of the fleet state for the web side:
 * per-node counts of each guard event kind since the collector started,
 * and the sink that hands every applied batch to the engine and to those
 * counts. The fleet state already keeps the recent guard events, the
 * latest Ollama status and the snapshot, so they are not kept again here.
 */
import type {
  AgentMessage,
  GuardEventKind,
} from '../../../shared/src/messages.ts';
import type { MessageSink } from '../ingest/message-sink.ts';

/** Guard events of one node by kind (`warning`, `kill`, …); absent = 0. */
export type GuardCounts = Partial<Record<GuardEventKind, number>>;

/** Counts guard events per node and kind since the collector started. */
export class GuardTally implements MessageSink {
  private readonly counts = new Map<string, GuardCounts>();

  /** Counts the guard events of one applied batch. */
  async apply(node: string, messages: AgentMessage[]): Promise<void> {
    for (const message of messages) {
      if (message.payload.type !== 'guard') continue;
      const kind = message.payload.guard.kind;
      const counts = this.counts.get(node) ?? {};
      counts[kind] = (counts[kind] ?? 0) + 1;
      this.counts.set(node, counts);
    }
  }

  /** A copy of one node's counts; empty when it sent no guard event. */
  of(node: string): GuardCounts {
    return { ...(this.counts.get(node) ?? {}) };
  }
}

/**
 * A sink that gives each batch to every target, in order, each after the
 * one before has finished. A target that rejects stops the batch there,
 * so ingest keeps it unapplied and offers it again at the next start.
 */
export function fanOutSink(targets: readonly MessageSink[]): MessageSink {
  return {
    apply: async (node, messages) => {
      for (const target of targets) await target.apply(node, messages);
    },
  };
}
