/**
 * The web side's ports filled from the running collector: nodes from the
 * fleet state, SLOs from the engine, incidents from the incident manager
 * (bulky internals left out), and one change feed for all three.
 */
import type { Logger } from '../../../shared/src/logger.ts';
import type { Result } from '../../../shared/src/result.ts';
import type { CollectorEngine, SloStatus } from '../engine/engine-types.ts';
import type { Incident } from '../incidents/incident.ts';
import type {
  IncidentManager,
  IncidentOpError,
} from '../incidents/manager-types.ts';
import type { FleetState } from '../ingest/fleet-state.ts';
import type {
  ActionOutcome,
  ChangeTopic,
  IncidentPort,
  IncidentView,
  SloView,
  WebSources,
} from '../web/ports.ts';
import type { GuardTally } from './activity-sink.ts';
import { nodeViewOf } from './fleet-ports.ts';

/** Fans change topics out to the web side's listeners. */
export interface ChangeHub {
  emit(topic: ChangeTopic): void;
  subscribe(listener: (topic: ChangeTopic) => void): () => void;
}

/** A change hub; a listener that throws is logged and the others still run. */
export function createChangeHub(logger: Logger): ChangeHub {
  const listeners = new Set<(topic: ChangeTopic) => void>();
  return {
    emit: (topic) => {
      for (const listener of listeners) {
        try {
          listener(topic);
        } catch (error) {
          logger.warn({ err: error, topic }, 'change listener failed');
        }
      }
    },
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** What {@link createWebSources} reads from. */
export interface WebSourceParts {
  fleet: FleetState;
  tally: GuardTally;
  engine: CollectorEngine;
  incidents: IncidentManager;
  hub: ChangeHub;
  isReady: () => boolean;
}

/** The web side's sources over the running collector. */
export function createWebSources(parts: WebSourceParts): WebSources {
  return {
    nodes: () =>
      parts.fleet
        .nodes()
        .map((state) => nodeViewOf(state, parts.tally.of(state.node))),
    slos: () => parts.engine.sloStatus().map(sloViewOf),
    incidents: incidentPortOf(parts.incidents),
    onChange: (listener) => parts.hub.subscribe(listener),
    isReady: parts.isReady,
  };
}

/** One SLO × node for the API, with its chart history. */
export function sloViewOf(status: SloStatus): SloView {
  return {
    slo: status.slo,
    node: status.node,
    targetPercent: status.targetPercent,
    dataState: status.dataState,
    burnRates: status.burnRates,
    budgetRemainingRatio: status.budgetRemainingRatio,
    firing: status.firing,
    history: status.history.map((point) => ({
      atMs: point.atMs,
      burnRates: point.burnRates,
    })),
  };
}

/**
 * An incident for the API: everything but the raw evidence (snapshots,
 * request counts) and the lifecycle bookkeeping, which are large and for
 * the collector's own use; the timeline, root cause and remediation carry
 * what they say.
 */
export function toIncidentView(incident: Incident): IncidentView {
  const view: Partial<Incident> = { ...incident };
  delete view.evidence;
  delete view.lifecycle;
  return view as IncidentView;
}

/** The incident manager behind the web side's incident port. */
export function incidentPortOf(manager: IncidentManager): IncidentPort {
  return {
    list: () => manager.list().map(toIncidentView),
    get: (id) => {
      const incident = manager.get(id);
      return incident === null ? null : toIncidentView(incident);
    },
    ack: async (id, by, note) =>
      outcomeOf(await manager.ack(id, by, note ?? undefined)),
    resolve: async (id, by, note) =>
      outcomeOf(await manager.resolve(id, by, note ?? undefined)),
    addNote: async (id, by, text) =>
      outcomeOf(await manager.addNote(id, by, text)),
    postmortemMarkdown: async (id) => {
      const result = await manager.postmortemMarkdown(id);
      return result.ok ? result.value : null;
    },
  };
}

function outcomeOf(result: Result<Incident, IncidentOpError>): ActionOutcome {
  if (result.ok) return { ok: true, incident: toIncidentView(result.value) };
  return {
    ok: false,
    status: result.error.code === 'not_found' ? 404 : 409,
    message: result.error.message,
  };
}
