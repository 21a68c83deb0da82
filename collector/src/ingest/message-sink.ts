/**
 * The port through which ingest hands stored messages to the rest of the
 * collector (SLO engine, incidents, …).
 */
import type { AgentMessage } from '../../../shared/src/messages.ts';

/**
 * Receives each node's messages in seq order, after they are in the
 * journal. Acks wait for `apply` to resolve. After a collector crash,
 * messages journaled after the node's last "applied" mark are applied again
 * at start, so a sink that keeps its own durable state should skip seqs it
 * already has. A rejected promise is logged; the messages stay in the
 * journal without an "applied" mark and are offered again at next start.
 */
export interface MessageSink {
  apply(node: string, messages: AgentMessage[]): Promise<void>;
}
