/**
 * What the collector knows about each agent right now, for the web side:
 * connected or not, when last heard, its hello (host facts, GPUs, policy),
 * its latest snapshot and health per component, the sampler's health, its
 * recent guard events, and counts of what ingest did with its messages.
 * Ingest updates it; readers get copies-by-reference of plain objects and
 * a change subscription.
 */
import type {
  AgentMessage,
  GuardEvent,
  HealthEvent,
  Hello,
  OllamaStatus,
} from '../../../shared/src/messages.ts';
import type { Snapshot } from '../../../shared/src/snapshot.ts';

/** How many recent guard events each node keeps. */
export const RECENT_GUARD_EVENTS = 50;

/** The sampler's health as the latest snapshot and health event tell it. */
export interface SamplerHealth {
  /** Source of the latest snapshot; null before the first one. */
  source: string | null;
  /** Message of the latest sampler health event unless it was `ok`. */
  lastError: string | null;
  /** True while the sampler reports itself `down`. */
  stale: boolean;
}

/** Counts of one node's messages since the collector started. */
export interface NodeCounts {
  /** Messages stored and applied. */
  applied: number;
  /** Messages received again after they were stored (resends). */
  duplicates: number;
  /** Messages refused as invalid. */
  rejected: number;
  /** Snapshots the agent thinned out of its outbox (agent's running total). */
  thinned: number;
}

/** One agent's state. */
export interface NodeState {
  node: string;
  connected: boolean;
  connectedSinceMs: number | null;
  /** Last frame received from the agent, ms since epoch; null if never. */
  lastSeenMs: number | null;
  agentVersion: string | null;
  hello: Hello | null;
  snapshot: Snapshot | null;
  /** Latest health event per component. */
  health: Partial<Record<HealthEvent['component'], HealthEvent>>;
  /** Ollama status from the latest health event that carried one. */
  ollama: OllamaStatus | null;
  sampler: SamplerHealth;
  /** Recent guard events, oldest first. */
  guard: GuardEvent[];
  /** Highest seq stored for this node; 0 when none. */
  lastSeq: number;
  counts: NodeCounts;
  /** Why the last stream ended or was refused; null when none did. */
  lastError: string | null;
}

/** Called with the node whose state changed. */
export type FleetListener = (node: string) => void;

/** Per-node agent state, updated by ingest, read by the web side. */
export class FleetState {
  private readonly states = new Map<string, NodeState>();
  private readonly listeners = new Set<FleetListener>();

  /** Every known node, by name. */
  nodes(): NodeState[] {
    return [...this.states.values()].sort((a, b) =>
      a.node.localeCompare(b.node),
    );
  }

  /** One node's state; null when the node never connected. */
  node(name: string): NodeState | null {
    return this.states.get(name) ?? null;
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: FleetListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A stream of `node` opened (authenticated). */
  connected(
    node: string,
    details: { atMs: number; agentVersion: string; hello: Hello | null },
  ): void {
    const state = this.ensure(node);
    state.connected = true;
    state.connectedSinceMs = details.atMs;
    state.lastSeenMs = details.atMs;
    state.agentVersion = details.agentVersion;
    if (details.hello !== null) state.hello = details.hello;
    this.emit(node);
  }

  /** The stream of `node` ended; `reason` null when it ended cleanly. */
  disconnected(node: string, reason: string | null): void {
    const state = this.ensure(node);
    state.connected = false;
    state.connectedSinceMs = null;
    if (reason !== null) state.lastError = reason;
    this.emit(node);
  }

  /** A frame arrived from `node` at `atMs`. */
  seen(node: string, atMs: number): void {
    this.ensure(node).lastSeenMs = atMs;
  }

  /** A stream was refused before it opened (bad token, bad frame). */
  refused(node: string, reason: string): void {
    this.ensure(node).lastError = reason;
    this.emit(node);
  }

  /** Counts duplicates and rejections of one frame. */
  counted(node: string, duplicates: number, rejected: number): void {
    const counts = this.ensure(node).counts;
    counts.duplicates += duplicates;
    counts.rejected += rejected;
    if (rejected > 0) this.emit(node);
  }

  /** Messages of `node` were stored and applied, in seq order. */
  applied(node: string, messages: readonly AgentMessage[]): void {
    const state = this.ensure(node);
    for (const message of messages) applyMessage(state, message);
    state.counts.applied += messages.length;
    this.emit(node);
  }

  private ensure(node: string): NodeState {
    let state = this.states.get(node);
    if (state === undefined) {
      state = emptyState(node);
      this.states.set(node, state);
    }
    return state;
  }

  private emit(node: string): void {
    for (const listener of this.listeners) listener(node);
  }
}

function emptyState(node: string): NodeState {
  return {
    node,
    connected: false,
    connectedSinceMs: null,
    lastSeenMs: null,
    agentVersion: null,
    hello: null,
    snapshot: null,
    health: {},
    ollama: null,
    sampler: { source: null, lastError: null, stale: false },
    guard: [],
    lastSeq: 0,
    counts: { applied: 0, duplicates: 0, rejected: 0, thinned: 0 },
    lastError: null,
  };
}

function applyMessage(state: NodeState, message: AgentMessage): void {
  state.lastSeq = Math.max(state.lastSeq, message.seq);
  const payload = message.payload;
  switch (payload.type) {
    case 'hello':
      state.hello = payload.hello;
      break;
    case 'snapshot':
      state.snapshot = payload.snapshot;
      state.sampler.source = payload.snapshot.source;
      break;
    case 'guard':
      state.guard.push(payload.guard);
      if (state.guard.length > RECENT_GUARD_EVENTS) state.guard.shift();
      break;
    case 'health':
      applyHealth(state, payload.health);
      break;
    case 'sli':
      break;
  }
}

function applyHealth(state: NodeState, health: HealthEvent): void {
  state.health[health.component] = health;
  if (health.ollama !== null) state.ollama = health.ollama;
  if (health.component === 'sampler') {
    state.sampler.lastError = health.status === 'ok' ? null : health.message;
    state.sampler.stale = health.status === 'down';
  }
  const thinned = health.details.thinnedMessages;
  if (health.kind === 'outbox_thinned' && typeof thinned === 'number') {
    state.counts.thinned = Math.max(state.counts.thinned, thinned);
  }
}
