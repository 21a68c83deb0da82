/**
 * The port through which ingest hands stored messages to the rest of the
 * collector (SLO engine, incidents, …).
 */
import type { AgentMessage } from '../../../shared/src/messages.ts';

/**
 * Receives each node's messages in seq order, once each per collector
 * run, as soon as they are accepted: the journal stores them meanwhile,
 * and acks wait for both. After a collector crash, messages journaled
 * after the node's last "applied" mark are applied again at start, and
 * agents send again what was applied but not yet stored, so a sink that
 * keeps its own durable state should skip seqs it already has. A rejected
 * promise is logged; the messages, once journaled, keep no "applied" mark
 * and are offered again at next start.
 */
export interface MessageSink {
  apply(node: string, messages: AgentMessage[]): Promise<void>;
}
