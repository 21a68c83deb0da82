/**
 * The collector's two listeners: the gRPC ingest for agents and the web
 * server for people, each started with failures turned into one line that
 * names the address (or file) and what to do.
 */
import type { Clock } from '../../../shared/src/clock.ts';
import { ConfigError } from '../../../shared/src/errors.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { CollectorConfig } from '../config.ts';
import type { TokenEntry } from '../ingest/agent-tokens.ts';
import type { FleetState } from '../ingest/fleet-state.ts';
import { resolveIngestPaths } from '../ingest/ingest-config.ts';
import { startIngestServer } from '../ingest/ingest-server.ts';
import type { IngestServer } from '../ingest/ingest-server.ts';
import type { MessageSink } from '../ingest/message-sink.ts';
import type { WebSources } from '../web/ports.ts';
import { startWebServer } from '../web/web-server.ts';
import type { WebServer } from '../web/web-server.ts';
import { splitHostPort } from '../web/web-config.ts';
import { errnoOf, listenFailure, probeListen } from './start-checks.ts';

/** What the listeners need from the service's collaborators. */
export interface ListenerDeps {
  clock: Clock;
  logger: Logger;
  fs: Fs;
  /** Agent tokens accepted besides the tokens file. */
  agentTokens?: TokenEntry[];
}

/**
 * Starts the gRPC ingest with `sink`; a port that cannot be bound and an
 * unreadable TLS file become one-line errors naming the address or file.
 */
export async function startIngest(
  config: CollectorConfig,
  deps: ListenerDeps,
  sink: MessageSink,
  fleet: FleetState,
): Promise<IngestServer> {
  const ingest = config.ingest;
  const paths = resolveIngestPaths(ingest, config.dataDir);
  try {
    return await startIngestServer(
      {
        listen: ingest.listen,
        tls: ingest.tls,
        allowPlaintext: ingest.allowPlaintext,
        tokensFile: paths.tokensFile,
        tokens: deps.agentTokens ?? [],
        maxMessageBytes: ingest.maxMessageBytes,
        flowControlWindowBytes: ingest.flowControlWindowBytes,
        rateLimit: ingest.rateLimit,
        journal: { ...ingest.journal, dir: paths.journalDir },
      },
      { clock: deps.clock, logger: deps.logger, fs: deps.fs, sink, fleet },
    );
  } catch (error) {
    throw await ingestFailure(config, error);
  }
}

/** Names what went wrong when ingest did not start. */
async function ingestFailure(
  config: CollectorConfig,
  error: unknown,
): Promise<unknown> {
  const { host, port } = config.ingest.listen;
  if (error instanceof ConfigError && error.field === 'ingest.listen') {
    const code = await probeListen(host, port);
    const target = { what: 'agents', key: 'ingest.listen', host, port };
    return listenFailure(target, code, error);
  }
  const tls = config.ingest.tls;
  const file = (error as { path?: unknown } | null)?.path;
  const tlsFiles = [tls?.certFile, tls?.keyFile, tls?.clientCaFile];
  if (typeof file === 'string' && tlsFiles.includes(file)) {
    return new ConfigError(
      'ingest.tls',
      'must name readable PEM files',
      `${file} (${errnoOf(error) ?? 'unreadable'})`,
    );
  }
  return error;
}

/** Starts the web server; a port that cannot be bound is a one-line error. */
export async function startWeb(
  config: CollectorConfig,
  deps: ListenerDeps,
  sources: WebSources,
  token: string | null,
): Promise<WebServer> {
  try {
    return await startWebServer(config.web, {
      sources,
      clock: deps.clock,
      logger: deps.logger,
      token,
    });
  } catch (error) {
    const code = errnoOf(error);
    if (code === null) throw error;
    const { host, port } = splitHostPort(config.web.listen);
    const target = { what: 'the dashboard', key: 'web.listen', host, port };
    throw listenFailure(target, code, error);
  }
}
