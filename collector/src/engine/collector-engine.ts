/**
 * The collector's SLO engine: takes agent messages (SLI events into
 * buckets, everything to the incident side as evidence), judges every
 * SLO × node on a timer and hands the verdicts to the incident manager.
 * The live service and replay run this same code with different clocks.
 */
import type { CancelTimer } from '../../../shared/src/clock.ts';
import type { AgentMessage } from '../../../shared/src/messages.ts';
import type { AlertState } from '../slo/alert-state.ts';
import type {
  CollectorEngine,
  CollectorEngineConfig,
  CollectorEngineDeps,
  EngineStats,
} from './engine-types.ts';
import {
  DEFAULT_EVALUATION_INTERVAL_MS,
  DEFAULT_FLUSH_INTERVAL_MS,
  DEFAULT_HISTORY_POINTS,
} from './engine-types.ts';
import { loadSeries, saveSeries } from './series-store.ts';
import { SloTracker } from './slo-tracker.ts';
import type { CountOutcome } from './slo-tracker.ts';

/** Creates the engine; nothing runs until {@link CollectorEngine.start}. */
export function createCollectorEngine(
  config: CollectorEngineConfig,
  deps: CollectorEngineDeps,
): CollectorEngine {
  const logger = deps.logger.child({ component: 'slo-engine' });
  const trackers = config.slos.map(
    (slo) =>
      new SloTracker(slo, config.historyPoints ?? DEFAULT_HISTORY_POINTS),
  );
  const ownLastSeen = new Map<string, number>();
  const stats: EngineStats = {
    eventsCounted: 0,
    eventsInvalid: 0,
    eventsTooOld: 0,
    eventsFromFuture: 0,
    evaluations: 0,
    evaluationErrors: 0,
    flushErrors: 0,
  };
  const timers: CancelTimer[] = [];
  let queue: Promise<unknown> = Promise.resolve();
  let flushing: Promise<void> = Promise.resolve();

  const lastSeenMs = (node: string): number | null => {
    const own = ownLastSeen.get(node) ?? null;
    const fleet = deps.fleet?.lastSeenMs(node) ?? null;
    if (own === null || fleet === null) return own ?? fleet;
    return Math.max(own, fleet);
  };

  const tally = (outcome: CountOutcome): void => {
    if (outcome === 'counted') stats.eventsCounted += 1;
    if (outcome === 'from_future') {
      stats.eventsCounted += 1;
      stats.eventsFromFuture += 1;
    }
    if (outcome === 'invalid') stats.eventsInvalid += 1;
    if (outcome === 'too_old') stats.eventsTooOld += 1;
  };

  const applyOne = (node: string, message: AgentMessage): void => {
    const nowMs = deps.clock.nowMs();
    ownLastSeen.set(node, nowMs);
    for (const tracker of trackers) tracker.touch(node);
    if (message.payload.type === 'sli') {
      for (const tracker of trackers) {
        tally(tracker.count(node, message.payload.sli, nowMs));
      }
    }
    try {
      deps.incidents.recordEvidence(node, message);
    } catch (error) {
      logger.error({ err: error, node }, 'incident evidence not recorded');
    }
  };

  const evaluate = async (nowMs: number): Promise<AlertState[]> => {
    const states: AlertState[] = [];
    for (const tracker of trackers) {
      for (const result of tracker.evaluate(nowMs, lastSeenMs)) {
        states.push(result.state);
        if (result.changed) logChange(result.state, result.previous?.rule);
      }
    }
    stats.evaluations += 1;
    await deps.incidents.onAlertStates(states, nowMs);
    return states;
  };

  const logChange = (state: AlertState, previous: string | undefined) => {
    logger.info(
      {
        slo: state.sloName,
        node: state.scope,
        rule: state.firing?.rule ?? null,
        previousRule: previous ?? null,
        severity: state.firing?.severity ?? null,
        burnRate: state.firing?.burnRate ?? null,
        dataState: state.dataState,
      },
      'slo alert changed',
    );
  };

  const enqueueEvaluation = (): void => {
    const nowMs = deps.clock.nowMs();
    queue = queue
      .then(() => evaluate(nowMs))
      .catch((error: unknown) => {
        stats.evaluationErrors += 1;
        logger.error({ err: error, nowMs }, 'slo evaluation failed');
      });
  };

  const flushNow = async (): Promise<void> => {
    const dataDir = config.dataDir;
    if (dataDir === null) return;
    for (const tracker of trackers) {
      for (const stored of tracker.takeDirty(lastSeenMs)) {
        try {
          await saveSeries(deps.fs, dataDir, stored);
        } catch (error) {
          stats.flushErrors += 1;
          tracker.markDirty(stored.node);
          logger.error(
            { err: error, slo: stored.slo, node: stored.node },
            'slo buckets not saved, will retry',
          );
        }
      }
    }
  };

  // Writes run one after another; a flush asked for during a write runs
  // after it, so what changed meanwhile is written too.
  const flush = (): Promise<void> => {
    flushing = flushing.then(flushNow);
    return flushing;
  };

  const load = async (): Promise<void> => {
    if (config.dataDir === null) return;
    const nowMs = deps.clock.nowMs();
    for (const tracker of trackers) {
      const loaded = await loadSeries(
        { fs: deps.fs, logger, nowMs },
        config.dataDir,
        tracker.slo,
      );
      for (const item of loaded) {
        tracker.restore(item);
        if (item.lastSeenMs !== null && !ownLastSeen.has(item.node)) {
          ownLastSeen.set(item.node, item.lastSeenMs);
        }
      }
      logger.info(
        { slo: tracker.slo.name, nodes: loaded.length },
        'slo buckets loaded',
      );
    }
  };

  const intervalMs =
    config.evaluationIntervalMs ??
    Math.min(
      DEFAULT_EVALUATION_INTERVAL_MS,
      ...config.slos.map((slo) => slo.bucketWidthMs),
    );

  return {
    apply: async (node, messages) => {
      for (const message of messages) applyOne(node, message);
    },
    evaluate,
    sloStatus: () => trackers.flatMap((t) => t.status()),
    stats: () => ({ ...stats }),
    start: async () => {
      await load();
      const nowMs = deps.clock.nowMs();
      const untilTickMs = intervalMs - (nowMs % intervalMs);
      timers.push(
        deps.clock.setTimeout(() => {
          enqueueEvaluation();
          timers.push(deps.clock.setInterval(enqueueEvaluation, intervalMs));
        }, untilTickMs),
      );
      timers.push(
        deps.clock.setInterval(
          // flush() catches and counts its own write failures.
          () => void flush(),
          config.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS,
        ),
      );
      logger.info(
        { slos: config.slos.map((s) => s.name), intervalMs },
        'slo engine started',
      );
    },
    stop: async () => {
      for (const cancel of timers.splice(0)) cancel();
      await queue;
      await flush();
      logger.info({ stats }, 'slo engine stopped');
    },
    settle: async () => {
      await queue;
    },
    flush,
  };
}
