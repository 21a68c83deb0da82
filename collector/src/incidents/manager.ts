/**
 * The incident manager: turns SLO verdicts into incidents (one per SLO and
 * scope), gathers the agents' evidence into them, keeps them in the store,
 * writes their postmortems and sends their notifications. The rules live
 * in `lifecycle.ts`; this file wires them to storage and the outside.
 */
import { randomBytes } from 'node:crypto';
import { GpuwardenError } from '../../../shared/src/errors.ts';
import type { AlertState } from '../slo/alert-state.ts';
import { dedupKeyOf, incidentIdFor } from './incident.ts';
import { applyAlertState, closeIfExpired, openIncident } from './lifecycle.ts';
import { createManagerCore } from './manager-core.ts';
import type { ManagerCore } from './manager-core.ts';
import type {
  IncidentManager,
  IncidentManagerDeps,
  IncidentManagerOptions,
  ManagerSettings,
} from './manager-types.ts';
import { DEFAULT_POSTMORTEM_FOOTER } from './postmortem.ts';

/**
 * Opens the store under `options.dataDir` and returns the manager. Throws
 * a `STORE_FAILED` error when the store file is unreadable (left as is).
 */
export async function createIncidentManager(
  options: IncidentManagerOptions,
  deps: IncidentManagerDeps,
): Promise<IncidentManager> {
  const settings = withDefaults(options);
  const core = await createManagerCore(settings, deps);
  const newSuffix = deps.idSuffix ?? (() => randomBytes(2).toString('hex'));
  let queue: Promise<void> = Promise.resolve();

  const applyOne = (state: AlertState): void => {
    const key = dedupKeyOf(state.sloName, state.scope);
    let current =
      core
        .incidents()
        .find((i) => i.dedupKey === key && i.status !== 'closed') ?? null;
    if (current) {
      core.handle(
        current,
        closeIfExpired(current, state.evaluatedAtMs, settings),
        state.evaluatedAtMs,
      );
      if (current.status === 'closed') current = null;
    }
    if (current) {
      core.handle(
        current,
        applyAlertState(current, state, settings),
        state.evaluatedAtMs,
      );
    } else if (state.firing) {
      const related = core
        .incidents()
        .filter((i) => i.dedupKey === key)
        .map((i) => i.id);
      const id = uniqueId(core, state.evaluatedAtMs, newSuffix);
      const incident = openIncident(state, state.firing, id, related.slice(-5));
      core.adopt(incident);
      core.handle(incident, ['opened'], state.evaluatedAtMs);
    }
  };

  const onAlertStates = async (
    states: AlertState[],
    nowMs: number,
  ): Promise<void> => {
    const run = async (): Promise<void> => {
      for (const state of states) applyOne(state);
      for (const incident of core.incidents()) {
        core.handle(incident, closeIfExpired(incident, nowMs, settings), nowMs);
      }
      await core.flush();
    };
    queue = queue.then(run, run);
    await queue;
  };

  return {
    onAlertStates,
    recordEvidence: (node, message) => core.recordEvidence(node, message),
    list: (filter) => core.list(filter ?? {}),
    get: (id) => core.get(id),
    ack: (id, by, note) => core.ack(id, by, note ?? null),
    resolve: (id, by, note) => core.resolve(id, by, note ?? null),
    addNote: (id, by, text) => core.addNote(id, by, text),
    postmortemPath: (id) => core.postmortemPath(id),
    postmortemMarkdown: (id) => core.postmortemMarkdown(id),
    onChange: (listener) => core.onChange(listener),
    close: async () => {
      await queue;
      await core.close();
    },
  };
}

function withDefaults(options: IncidentManagerOptions): ManagerSettings {
  return {
    dataDir: options.dataDir,
    holdMs: options.holdMs ?? 15 * 60_000,
    reopenWindowMs: options.reopenWindowMs ?? 60 * 60_000,
    evidenceLookbackMs: options.evidenceLookbackMs ?? 60 * 60_000,
    evidenceRetentionMs: options.evidenceRetentionMs ?? 2 * 60 * 60_000,
    latencyThresholdMs: options.latencyThresholdMs ?? 2000,
    postmortemFooter: options.postmortemFooter ?? DEFAULT_POSTMORTEM_FOOTER,
    externalUrl: options.externalUrl ?? null,
  };
}

function uniqueId(
  core: ManagerCore,
  atMs: number,
  suffix: () => string,
): string {
  const taken = new Set(core.incidents().map((i) => i.id));
  for (let i = 0; i < 1000; i += 1) {
    const id = incidentIdFor(atMs, suffix());
    if (!taken.has(id)) return id;
  }
  throw new GpuwardenError(
    'INTERNAL',
    'no free incident ID left for this day; 65536 incidents in one day is more than gpuwarden can number',
  );
}
