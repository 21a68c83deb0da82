/**
 * The collector service, composed: the incident manager and the SLO
 * engine over the data directory, the gRPC ingest feeding them, and the
 * web server reading them. `gpuwarden-collector run` is this plus signal
 * handling; tests and the demo start it in-process.
 */
import type { Clock } from '../../../shared/src/clock.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import { holdStateLock } from '../../../shared/src/state-lock.ts';
import type {
  StateLock,
  StateLockDeps,
} from '../../../shared/src/state-lock.ts';
import type { CollectorConfig } from '../config.ts';
import { createCollectorEngine } from '../engine/collector-engine.ts';
import type { CollectorEngine, IncidentSink } from '../engine/engine-types.ts';
import { createIncidentManager, createNotifier } from '../incidents/index.ts';
import type { HttpPost, IncidentManager } from '../incidents/index.ts';
import type { TokenEntry } from '../ingest/agent-tokens.ts';
import { FleetState } from '../ingest/fleet-state.ts';
import type { IngestServer } from '../ingest/ingest-server.ts';
import type { WebSources } from '../web/ports.ts';
import type { WebServer } from '../web/web-server.ts';
import { GuardTally, fanOutSink } from './activity-sink.ts';
import { fleetLiveness, fleetServing } from './fleet-ports.ts';
import { startIngest, startWeb } from './listeners.ts';
import {
  ensureWritableDataDir,
  formatAddress,
  readWebToken,
} from './start-checks.ts';
import { createChangeHub, createWebSources } from './web-sources.ts';
import type { ChangeHub } from './web-sources.ts';

/** Collaborators of {@link startCollectorService}. */
export interface CollectorServiceDeps {
  clock: Clock;
  logger: Logger;
  fs: Fs;
  /** Agent tokens accepted besides the tokens file (tests, demo). */
  agentTokens?: TokenEntry[];
  /** How notifications are POSTed; `fetch` when omitted. */
  post?: HttpPost;
  /** Seams of the data directory lock (tests); the real ones by default. */
  stateLock?: Omit<StateLockDeps, 'logger' | 'clock'>;
}

/** A running collector. */
export interface CollectorService {
  /** Where agents connect, `host:port` with the bound port. */
  ingestAddress: string;
  /** The dashboard's base URL, e.g. `http://127.0.0.1:7411`. */
  webUrl: string;
  /** The data directory in use (absolute). */
  dataDir: string;
  fleet: FleetState;
  engine: CollectorEngine;
  incidents: IncidentManager;
  /** What the web side reads; also handy for tests. */
  sources: WebSources;
  /**
   * Stops accepting agents, lets queued messages apply, writes the SLO
   * buckets, closes the incident store, closes the web server, then
   * releases the data directory. Calling it again returns the same promise.
   */
  stop(): Promise<void>;
}

/**
 * Locks the data directory, opens the stores and starts both servers.
 * Throws ConfigError for a bad setup (TLS files, web token, plaintext on a
 * network address) and a one-line GpuwardenError for a data directory
 * that is not writable or is in use by another collector, or an address
 * that cannot be bound; whatever was opened is closed again.
 */
export async function startCollectorService(
  config: CollectorConfig,
  deps: CollectorServiceDeps,
): Promise<CollectorService> {
  const log = deps.logger.child({ component: 'collector' });
  await ensureWritableDataDir(config.dataDir, deps.fs);
  const token = await readWebToken(config.web, deps.fs);
  // One collector per data directory: a second would share the stores.
  const lock = await holdStateLock(
    config.dataDir,
    { name: 'collector', dirSetting: 'dataDir' },
    { logger: log, clock: deps.clock, ...deps.stateLock },
  );
  const undo: (() => Promise<void>)[] = [() => lock.release()];

  try {
    const core = await openCore(config, deps, log, undo);
    const sink = fanOutSink([core.engine, core.tally]);
    const ingest = await startIngest(config, deps, sink, core.fleet);
    undo.push(() => ingest.close());
    const web = await startWeb(config, deps, core.sources, token);
    undo.push(() => web.close());
    return serviceOf(config, core, { ingest, web, lock }, log);
  } catch (error) {
    await undoAll(undo, log);
    throw error;
  }
}

/** The stores and state behind both servers. */
interface Core {
  fleet: FleetState;
  hub: ChangeHub;
  tally: GuardTally;
  incidents: IncidentManager;
  engine: CollectorEngine;
  sources: WebSources;
  ready: { value: boolean };
}

async function openCore(
  config: CollectorConfig,
  deps: CollectorServiceDeps,
  log: Logger,
  undo: (() => Promise<void>)[],
): Promise<Core> {
  const fleet = new FleetState();
  const hub = createChangeHub(log);
  const tally = new GuardTally();
  const ready = { value: false };

  const incidents = await openIncidents(config, deps, fleet);
  undo.push(() => incidents.close());
  const engine = createCollectorEngine(
    { slos: config.slo.slos, dataDir: config.dataDir },
    {
      clock: deps.clock,
      logger: deps.logger,
      fs: deps.fs,
      incidents: withEvaluationHook(incidents, hub),
      fleet: fleetLiveness(fleet),
    },
  );
  await engine.start();
  undo.push(() => engine.stop());

  const isReady = () => ready.value;
  const parts = { fleet, tally, engine, incidents, hub, isReady };
  const sources = createWebSources(parts);
  return { fleet, hub, tally, incidents, engine, sources, ready };
}

function serviceOf(
  config: CollectorConfig,
  core: Core,
  servers: { ingest: IngestServer; web: WebServer; lock: StateLock },
  log: Logger,
): CollectorService {
  const { fleet, hub, engine, incidents } = core;
  const unsubscribe = [
    fleet.onChange(() => hub.emit('nodes')),
    incidents.onChange(() => hub.emit('incidents')),
  ];
  const { host } = config.ingest.listen;
  const ingestAddress = formatAddress(host, servers.ingest.port);
  core.ready.value = true;
  log.info(
    { dataDir: config.dataDir, ingest: ingestAddress, web: servers.web.url },
    'collector started',
  );

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    core.ready.value = false;
    unsubscribe.forEach((off) => off());
    stopping ??= stopInOrder({ ...servers, engine, incidents }, log);
    return stopping;
  };
  return {
    ingestAddress,
    webUrl: servers.web.url,
    dataDir: config.dataDir,
    fleet,
    engine,
    incidents,
    sources: core.sources,
    stop,
  };
}

/** Tells the web side after each engine evaluation that SLOs changed. */
function withEvaluationHook(
  incidents: IncidentManager,
  hub: ChangeHub,
): IncidentSink {
  return {
    onAlertStates: async (states, nowMs) => {
      try {
        await incidents.onAlertStates(states, nowMs);
      } finally {
        hub.emit('slos');
      }
    },
    recordEvidence: (node, message) => incidents.recordEvidence(node, message),
  };
}

function openIncidents(
  config: CollectorConfig,
  deps: CollectorServiceDeps,
  fleet: FleetState,
): Promise<IncidentManager> {
  const settings = config.incidents;
  const notifier =
    settings.notifications.length === 0
      ? undefined
      : createNotifier(
          { channels: settings.notifications, retry: settings.retry },
          {
            clock: deps.clock,
            logger: deps.logger,
            fs: deps.fs,
            post: deps.post,
          },
        );
  return createIncidentManager(
    {
      dataDir: config.dataDir,
      holdMs: settings.holdMs,
      reopenWindowMs: settings.reopenWindowMs,
      evidenceLookbackMs: settings.evidenceLookbackMs,
      latencyThresholdMs: config.slo.slos[0]?.latencyThresholdMs,
      postmortemFooter: settings.postmortemFooter,
      externalUrl: settings.externalUrl,
    },
    {
      clock: deps.clock,
      logger: deps.logger,
      fs: deps.fs,
      notifier,
      fleet: fleetServing(fleet),
    },
  );
}

interface Running {
  ingest: IngestServer;
  engine: CollectorEngine;
  incidents: IncidentManager;
  web: WebServer;
  lock: StateLock;
}

async function stopInOrder(running: Running, log: Logger): Promise<void> {
  log.info({}, 'collector stopping');
  const steps: [string, () => Promise<void>][] = [
    ['ingest', () => running.ingest.close()],
    ['slo engine', () => running.engine.stop()],
    ['incidents', () => running.incidents.close()],
    ['web', () => running.web.close()],
    ['data directory lock', () => running.lock.release()],
  ];
  for (const [part, step] of steps) {
    try {
      await step();
    } catch (error) {
      log.error({ err: error, part }, 'collector part did not stop cleanly');
    }
  }
  log.info({}, 'collector stopped');
}

async function undoAll(
  undo: (() => Promise<void>)[],
  log: Logger,
): Promise<void> {
  for (const step of undo.reverse()) {
    try {
      await step();
    } catch (error) {
      log.warn({ err: error }, 'cleanup after a failed start failed');
    }
  }
}
