/**
 * Where agent messages go on the incident side: a per-node buffer covering
 * the lookback (so an incident that opens now can gather what led up to
 * it), the active incidents of that node, and a small view of which nodes
 * serve which workload (for single points of failure). In memory only; no
 * I/O.
 */
import type { AgentMessage } from '../../../shared/src/messages.ts';
import {
  addEvidence,
  emptyEvidence,
  evidenceBetween,
  messageTimeMs,
  pruneEvidence,
} from './evidence.ts';
import type { EvidenceLimits, IncidentEvidence } from './evidence.ts';

/** Buffers recent evidence per node and knows who serves what. */
export interface EvidenceRouter {
  /** Buffers `message`; returns its time, ms. */
  buffer(node: string, message: AgentMessage): number;
  /** A copy of the buffered evidence of `node` between the two times. */
  between(node: string, fromMs: number, toMs: number): IncidentEvidence;
  /** Nodes seen serving `workload` (SLI events or a reservation for it). */
  nodesServing(workload: string): string[];
}

/** Creates a router keeping `retentionMs` of evidence per node. */
export function createEvidenceRouter(options: {
  retentionMs: number;
  limits: EvidenceLimits;
}): EvidenceRouter {
  const perNode = new Map<string, IncidentEvidence>();
  const serving = new Map<string, Set<string>>();
  const newestMs = new Map<string, number>();

  const noteServing = (workload: string, node: string): void => {
    const key = workload.toLowerCase();
    const nodes = serving.get(key) ?? new Set<string>();
    nodes.add(node);
    serving.set(key, nodes);
  };

  const buffer: EvidenceRouter['buffer'] = (node, message) => {
    const evidence = perNode.get(node) ?? emptyEvidence();
    perNode.set(node, evidence);
    addEvidence(evidence, message, options.limits);
    const atMs = messageTimeMs(message);
    const payload = message.payload;
    if (payload.type === 'sli') noteServing(payload.sli.workload, node);
    if (payload.type === 'hello') {
      for (const r of payload.hello.policy.reservations) {
        noteServing(r.workload, node);
      }
    }

    // Prune by the newest time seen, so late or replayed messages do not
    // make the buffer forget what it just kept.
    const newest = Math.max(newestMs.get(node) ?? atMs, atMs);
    newestMs.set(node, newest);
    pruneEvidence(evidence, newest - options.retentionMs);
    return atMs;
  };

  return {
    buffer,
    between: (node, fromMs, toMs) =>
      evidenceBetween(perNode.get(node) ?? emptyEvidence(), fromMs, toMs),
    nodesServing: (workload) => [
      ...(serving.get(workload.toLowerCase()) ?? []),
    ],
  };
}
