/**
 * The fleet state seen through the ports of the engine (when was a node
 * last heard from), the incident manager (which nodes serve a workload)
 * and the dashboard (one view per node).
 */
import type { NodeLiveness } from '../engine/engine-types.ts';
import type { IncidentFleet } from '../incidents/manager-types.ts';
import type { FleetState, NodeState } from '../ingest/fleet-state.ts';
import type { NodeView } from '../web/ports.ts';
import type { GuardCounts } from './activity-sink.ts';

/** A node as the API shows it: the dashboard's view plus ingest facts. */
export interface NodeApiView extends NodeView {
  agentVersion: string | null;
  connectedSinceMs: number | null;
  /** Guard events by kind since the collector started. */
  guardCounts: GuardCounts;
  /** What ingest did with the node's messages since the collector started. */
  ingest: NodeState['counts'] & { lastSeq: number };
  /** Why the node's last stream ended or was refused; null when none did. */
  lastError: string | null;
}

/** Last-seen times from the fleet state, for the engine's no-data rule. */
export function fleetLiveness(fleet: FleetState): NodeLiveness {
  return { lastSeenMs: (node) => fleet.node(node)?.lastSeenMs ?? null };
}

/**
 * Which nodes serve a workload, from the agents' hellos (a reservation for
 * it) and, for `ollama`, from a reported Ollama status. Null when no node
 * is known to serve it, so the incident side falls back to its evidence.
 */
export function fleetServing(fleet: FleetState): IncidentFleet {
  return {
    nodesServing: (workload) => {
      const nodes = fleet
        .nodes()
        .filter((state) => servesWorkload(state, workload))
        .map((state) => state.node);
      return nodes.length > 0 ? nodes : null;
    },
  };
}

function servesWorkload(state: NodeState, workload: string): boolean {
  const reserved = (state.hello?.policy.reservations ?? []).some(
    (reservation) => reservation.workload === workload,
  );
  return reserved || (workload === 'ollama' && state.ollama !== null);
}

/** One node's API view. */
export function nodeViewOf(state: NodeState, counts: GuardCounts): NodeApiView {
  return {
    node: state.node,
    connected: state.connected,
    lastSeenMs: state.lastSeenMs,
    hello: state.hello,
    snapshot: state.snapshot,
    ollama: state.ollama,
    sampler: { ...state.sampler },
    guard: [...state.guard],
    agentVersion: state.agentVersion,
    connectedSinceMs: state.connectedSinceMs,
    guardCounts: counts,
    ingest: { ...state.counts, lastSeq: state.lastSeq },
    lastError: state.lastError,
  };
}
