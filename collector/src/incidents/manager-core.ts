/**
 * The manager's state and side effects: the store, the evidence router,
 * listeners, postmortem files and notification dispatch. `manager.ts`
 * decides which lifecycle transitions to apply; this file carries out
 * what follows from them.
 */
import path from 'node:path';
import type { AgentMessage } from '../../../shared/src/messages.ts';
import { err, ok } from '../../../shared/src/result.ts';
import type { Result } from '../../../shared/src/result.ts';
import { addEvidence, DEFAULT_EVIDENCE_LIMITS } from './evidence.ts';
import type { EvidenceLimits } from './evidence.ts';
import { createEvidenceRouter } from './evidence-router.ts';
import type { Incident, NotificationEventKind } from './incident.ts';
import { ALL_NOTIFICATION_EVENTS } from './incidents-config.ts';
import { isActive, isoSeconds } from './incident.ts';
import { acknowledge, resolveByHand } from './manual-actions.ts';
import { entry } from './timeline.ts';
import type { LifecycleEvent } from './lifecycle.ts';
import type {
  IncidentChange,
  IncidentFilter,
  IncidentManagerDeps,
  IncidentOpError,
  ManagerSettings,
} from './manager-types.ts';
import {
  refreshNarrative,
  timelineEntriesOf,
  timelineEntryFor,
} from './narrative.ts';
import { createNotificationDispatch } from './notification-dispatch.ts';
import { composePostmortem } from './postmortem-merge.ts';
import { postmortemSections } from './postmortem.ts';
import { openIncidentStore } from './store.ts';

type OpResult<T> = Result<T, IncidentOpError>;

const LOGGED: ReadonlySet<LifecycleEvent> = new Set([
  ...ALL_NOTIFICATION_EVENTS,
  'closed',
  'acknowledged',
]);

function isNotified(event: LifecycleEvent): event is NotificationEventKind {
  return (ALL_NOTIFICATION_EVENTS as readonly string[]).includes(event);
}

/** The manager's state and effects; see `manager.ts`. */
export type ManagerCore = Awaited<ReturnType<typeof createManagerCore>>;

/** Opens the store and builds the core. */
export async function createManagerCore(
  settings: ManagerSettings,
  deps: IncidentManagerDeps,
) {
  const log = deps.logger.child({ component: 'incidents' });
  const store = await openIncidentStore({ dataDir: settings.dataDir }, deps);
  const limits: EvidenceLimits = {
    ...DEFAULT_EVIDENCE_LIMITS,
    latencyThresholdMs: settings.latencyThresholdMs,
  };
  const router = createEvidenceRouter({
    retentionMs: settings.evidenceRetentionMs,
    limits,
  });
  const listeners = new Set<(change: IncidentChange) => void>();
  const dirtyPostmortems = new Set<string>();
  let storeDirty = false;
  const saves = new Set<Promise<unknown>>();
  const incidents = (): Incident[] => store.data.incidents;
  const find = (id: string): Incident | null =>
    incidents().find((i) => i.id === id) ?? null;

  const emit = (kind: IncidentChange['kind'], incident: Incident): void => {
    if (listeners.size === 0) return;
    const change = { kind, incident: structuredClone(incident) };
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (error) {
        log.warn({ err: error }, 'incident change listener failed');
      }
    }
  };
  const saveSoon = (): void => {
    const save = store.save().finally(() => saves.delete(save));
    saves.add(save);
  };
  const dispatch = createNotificationDispatch(
    { externalUrl: settings.externalUrl },
    {
      notifier: deps.notifier ?? null,
      logger: log,
      onProgress: (incident) => {
        saveSoon();
        emit('notification', incident);
      },
    },
  );
  const fleetFacts = (incident: Incident) => {
    const workload = incident.slo.name.split('_')[0] ?? incident.slo.name;
    return {
      nodesServingWorkload:
        deps.fleet?.nodesServing(workload) ?? router.nodesServing(workload),
    };
  };
  const refresh = (incident: Incident): void => {
    refreshNarrative(incident, fleetFacts(incident), settings.holdMs);
    incident.timeline.sort((a, b) => a.at.localeCompare(b.at));
  };

  const adopt = (incident: Incident): void => {
    const openedMs = Date.parse(incident.openedAt);
    incident.evidence = router.between(
      incident.node,
      openedMs - settings.evidenceLookbackMs,
      Number.POSITIVE_INFINITY,
    );
    incident.timeline.push(...timelineEntriesOf(incident.evidence));
    incident.timeline.sort((a, b) => a.at.localeCompare(b.at));
    incidents().push(incident);
  };

  const handle = (
    incident: Incident,
    events: LifecycleEvent[],
    atMs: number,
  ): void => {
    if (events.length === 0) return;
    refresh(incident);
    dirtyPostmortems.add(incident.id);
    storeDirty = true;
    for (const event of events) {
      if (LOGGED.has(event)) {
        log.info(
          {
            incidentId: incident.id,
            event,
            severity: incident.severity,
            status: incident.status,
          },
          'incident changed',
        );
      }
      if (isNotified(event)) dispatch.plan(incident, event, atMs);
      emit(event, incident);
    }
  };

  const writePostmortem = async (incident: Incident): Promise<string> => {
    const file = postmortemFile(incident.id);
    const previous = (await deps.fs.exists(file))
      ? await deps.fs.readText(file)
      : null;
    const sections = postmortemSections(incident, {
      holdMs: settings.holdMs,
      latencyThresholdMs: settings.latencyThresholdMs,
      footer: settings.postmortemFooter,
      nowMs: deps.clock.nowMs(),
    });
    const text = composePostmortem(sections, previous);
    await deps.fs.writeFileAtomic(file, text);
    return text;
  };
  const postmortemFile = (id: string): string =>
    path.join(settings.dataDir, 'postmortems', `${id}.md`);

  const flush = async (): Promise<void> => {
    if (storeDirty) {
      storeDirty = false;
      // A failed write is logged by the store; try again on the next flush.
      if (!(await store.save()).ok) storeDirty = true;
    }
    for (const id of [...dirtyPostmortems]) {
      dirtyPostmortems.delete(id);
      const incident = find(id);
      if (!incident) continue;
      try {
        await writePostmortem(incident);
      } catch (error) {
        log.error({ err: error, incidentId: id }, 'postmortem write failed');
      }
    }
    for (const incident of incidents()) dispatch.start(incident);
  };

  const recordEvidence = (node: string, message: AgentMessage): void => {
    router.buffer(node, message);
    const line = timelineEntryFor(message);
    let changed = false;
    for (const incident of incidents()) {
      if (incident.node !== node || !isActive(incident)) continue;
      if (!addEvidence(incident.evidence, message, limits) && !line) continue;
      if (line) incident.timeline.push({ ...line });
      refresh(incident);
      emit('evidence', incident);
      changed = true;
    }
    if (changed) saveSoon();
  };

  const operate = async (
    id: string,
    change: (incident: Incident) => IncidentOpError | null,
    events: LifecycleEvent[],
  ): Promise<OpResult<Incident>> => {
    const incident = find(id);
    if (!incident)
      return err({
        code: 'not_found',
        message: `no incident ${id}; list incidents to see their IDs`,
      });
    const refused = change(incident);
    if (refused) return err(refused);
    if (events.length > 0) handle(incident, events, deps.clock.nowMs());
    refresh(incident);
    dirtyPostmortems.add(incident.id);
    storeDirty = true;
    await flush();
    return ok(structuredClone(incident));
  };
  const refusal = (incident: Incident, verb: string): IncidentOpError => ({
    code: 'invalid_transition',
    message: `incident ${incident.id} is ${incident.status} and cannot be ${verb}`,
  });

  // Deliveries that were pending when the collector stopped go out again.
  for (const incident of incidents()) dispatch.start(incident);

  return {
    incidents,
    adopt,
    handle,
    flush,
    recordEvidence,
    list: (filter: IncidentFilter): Incident[] => {
      const statuses =
        filter.status === undefined ? null : [filter.status].flat();
      return incidents()
        .filter((i) => statuses === null || statuses.includes(i.status))
        .filter((i) => filter.node === undefined || i.node === filter.node)
        .filter((i) => filter.slo === undefined || i.slo.name === filter.slo)
        .sort((a, b) => b.openedAt.localeCompare(a.openedAt))
        .map((i) => structuredClone(i));
    },
    get: (id: string): Incident | null => {
      const incident = find(id);
      return incident ? structuredClone(incident) : null;
    },
    ack: (id: string, by: string, note: string | null) =>
      operate(
        id,
        (i) =>
          acknowledge(i, deps.clock.nowMs(), by, note)
            ? null
            : refusal(i, 'acknowledged'),
        ['acknowledged'],
      ),
    resolve: (id: string, by: string, note: string | null) =>
      operate(
        id,
        (i) =>
          resolveByHand(i, deps.clock.nowMs(), by, note)
            ? null
            : refusal(i, 'resolved'),
        ['resolved'],
      ),
    addNote: (id: string, by: string, text: string) =>
      operate(
        id,
        (i) => {
          i.timeline.push(
            entry(isoSeconds(deps.clock.nowMs()), 'note', text, undefined, by),
          );
          emit('note', i);
          return null;
        },
        [],
      ),
    postmortemPath: (id: string): string | null =>
      find(id) ? postmortemFile(id) : null,
    postmortemMarkdown: async (id: string): Promise<OpResult<string>> => {
      const incident = find(id);
      if (!incident)
        return err({
          code: 'not_found',
          message: `no incident ${id}; list incidents to see their IDs`,
        });
      return ok(await writePostmortem(incident));
    },
    onChange: (listener: (change: IncidentChange) => void): (() => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: async (): Promise<void> => {
      await dispatch.close();
      await Promise.all(saves);
      await store.save();
    },
  };
}
