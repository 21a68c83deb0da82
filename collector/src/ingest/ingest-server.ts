/**
 * The collector's gRPC ingest: the `gpuwarden.v1.Link` server. It checks
 * the transport's security before listening, recovers the journal (and
 * applies what a crash left unapplied), then serves one stream per agent.
 */
import { Server, ServerCredentials, status as Status } from '@grpc/grpc-js';
import type { Clock } from '../../../shared/src/clock.ts';
import { ConfigError } from '../../../shared/src/errors.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import { loadLinkProto } from '../../../shared/src/proto/link-proto.ts';
import type { LinkProto } from '../../../shared/src/proto/link-proto.ts';
import { decodeAgentMessage } from '../../../shared/src/proto/message-codec.ts';
import { NodeIdentities } from '../../../shared/src/proto/identity-memory.ts';
import type { AgentMessage } from '../../../shared/src/messages.ts';
import {
  AgentStream,
  commitIdentities,
  endFailedNodes,
} from './agent-stream.ts';
import type { LinkCall, StreamContext } from './agent-stream.ts';
import { CommitQueue } from './commit-queue.ts';
import {
  DEFAULT_FLOW_CONTROL_WINDOW_BYTES,
  limitReadAhead,
  setFlowControlWindow,
} from './flow-window.ts';
import type { FleetState } from './fleet-state.ts';
import type { IngestConfig, IngestTlsConfig } from './ingest-config.ts';
import { isLoopbackHost } from './ingest-config.ts';
import { RECORD_APPLIED } from './journal-format.ts';
import { IngestJournal } from './journal.ts';
import type { JournalOptions } from './journal.ts';
import { MessageApplier } from './message-applier.ts';
import { FlowPool } from './stream-flow.ts';
import type { MessageSink } from './message-sink.ts';
import { TokenSource } from './token-source.ts';
import type { TokenEntry } from './agent-tokens.ts';

/** What the server needs to start (paths resolved). */
export interface IngestServerOptions {
  listen: IngestConfig['listen'];
  tls: IngestTlsConfig | null;
  allowPlaintext: boolean;
  /** Tokens file; null when only `tokens` are used. */
  tokensFile: string | null;
  /** Tokens accepted besides the file's (tests, benchmarks). */
  tokens?: TokenEntry[];
  maxMessageBytes: number;
  rateLimit: IngestConfig['rateLimit'];
  journal: JournalOptions;
  /**
   * Bytes of messages a stream may have waiting for the journal before it
   * is no longer read; default 4 MiB.
   */
  maxPendingBytes?: number;
  /**
   * Bytes of messages all streams together may have waiting; default
   * 32 MiB. With the HTTP/2 window and one frame per stream
   * (`flow-window.ts`) this bounds the memory that waiting data takes.
   */
  maxPendingBytesTotal?: number;
  /**
   * HTTP/2 receive window per connection and per stream, bytes; default
   * 1 MiB (`flow-window.ts`).
   */
  flowControlWindowBytes?: number;
}

/** Collaborators of the server. */
export interface IngestDeps {
  clock: Clock;
  logger: Logger;
  fs: Fs;
  sink: MessageSink;
  fleet: FleetState;
}

/** A running ingest server. */
export interface IngestServer {
  /** The bound port (useful with port 0). */
  port: number;
  /** Ends all streams, waits for queued messages, closes the journal. */
  close(): Promise<void>;
}

/** Starts the ingest server; throws ConfigError for an unsafe setup. */
export async function startIngestServer(
  options: IngestServerOptions,
  deps: IngestDeps,
): Promise<IngestServer> {
  const log = deps.logger.child({ component: 'ingest' });
  const credentials = await serverCredentials(options, deps.fs, log);
  const proto = loadLinkProto();
  const tokens = await TokenSource.load(
    options.tokensFile,
    options.tokens ?? [],
    deps.fs,
  );
  const journal = await IngestJournal.open(options.journal, {
    logger: log,
    fs: deps.fs,
  });
  const identities = new NodeIdentities();
  await applyUnapplied(journal, proto, identities, deps, log);

  const ctx = createContext(options, deps, proto, journal, log, identities);
  const windowBytes =
    options.flowControlWindowBytes ?? DEFAULT_FLOW_CONTROL_WINDOW_BYTES;
  const server = new Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    // Read by grpc-js versions that size a server's window themselves.
    'grpc-node.flow_control_window': windowBytes,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
  });
  server.addService(proto.service, {
    Stream: (call: LinkCall) => void acceptStream(call, ctx, tokens),
  });
  const port = await bind(server, options.listen, credentials);
  if (!setFlowControlWindow(server, windowBytes)) {
    log.warn(
      { windowBytes },
      'cannot size the HTTP/2 flow-control window with this grpc-js; agents send at most 64 KiB per round trip',
    );
  }
  log.info(
    {
      host: options.listen.host,
      port,
      tls: options.tls !== null,
      tokens: tokens.size(),
    },
    'ingest listening',
  );
  if (tokens.size() === 0) {
    log.warn(
      { tokensFile: options.tokensFile },
      'no agent tokens: no agent can connect until one is created with gpuwarden-collector token create',
    );
  }
  return { port, close: () => closeServer(server, ctx, journal, log) };
}

function createContext(
  options: IngestServerOptions,
  deps: IngestDeps,
  proto: LinkProto,
  journal: IngestJournal,
  log: Logger,
  identities: NodeIdentities,
): StreamContext {
  const accepted = new Map<string, number>();
  const streams = new Map<string, AgentStream>();
  const commits = new CommitQueue({
    journal,
    logger: log,
    onWriteFailed: (nodes) => endFailedNodes({ accepted, streams }, nodes),
  });
  const applier = new MessageApplier({
    sink: deps.sink,
    fleet: deps.fleet,
    logger: log,
    clock: deps.clock,
    storedSeq: (node) => journal.lastSeq(node),
  });
  return {
    proto,
    commits,
    applier,
    fleet: deps.fleet,
    clock: deps.clock,
    logger: log,
    accepted,
    storedSeq: (node) => journal.lastSeq(node),
    streams,
    rateLimit: options.rateLimit,
    maxFrameBytes: options.maxMessageBytes,
    flows: new FlowPool({
      perStreamBytes: options.maxPendingBytes ?? 4 * 1024 * 1024,
      totalBytes: options.maxPendingBytesTotal ?? 32 * 1024 * 1024,
    }),
    identities,
    readAheadWarned: false,
    closing: false,
  };
}

async function acceptStream(
  call: LinkCall,
  ctx: StreamContext,
  tokens: TokenSource,
): Promise<void> {
  if (ctx.closing) {
    call.emit('error', {
      code: Status.UNAVAILABLE,
      details: 'collector is shutting down',
    });
    return;
  }
  if (!limitReadAhead(call) && !ctx.readAheadWarned) {
    ctx.readAheadWarned = true;
    ctx.logger.warn(
      {},
      'cannot limit how far a stream reads ahead with this Node.js; a paused agent stream may hold 16 frames',
    );
  }
  const authorization = call.metadata.get('authorization')[0];
  const check = await tokens.check(
    typeof authorization === 'string' ? authorization : null,
  );
  if (!check.ok) {
    const details =
      check.reason === 'missing'
        ? 'no bearer token; give the agent a token file made with: gpuwarden-collector token create --node NAME'
        : 'collector rejected the token; check the agent token file against the collector tokens file';
    ctx.logger.warn(
      { peer: call.getPeer(), reason: check.reason },
      'agent token rejected',
    );
    call.emit('error', { code: Status.UNAUTHENTICATED, details });
    return;
  }
  new AgentStream(call, check.node, ctx).start();
}

async function applyUnapplied(
  journal: IngestJournal,
  proto: LinkProto,
  identities: NodeIdentities,
  deps: IngestDeps,
  log: Logger,
): Promise<void> {
  const byNode = new Map<string, AgentMessage[]>();
  for (const record of journal.takeUnapplied()) {
    const memory = identities.of(record.node);
    const decoded = decodeAgentMessage(proto, record.payload, memory);
    if (!decoded.ok) continue;
    commitIdentities(memory, decoded.value);
    byNode.set(record.node, [
      ...(byNode.get(record.node) ?? []),
      decoded.value,
    ]);
  }
  for (const [node, messages] of byNode) {
    log.info(
      { node, count: messages.length, fromSeq: messages[0]!.seq },
      'applying journaled messages left unapplied by a crash',
    );
    try {
      await deps.sink.apply(node, messages);
    } catch (error) {
      // As while running: logged, left unmarked, offered again next start.
      log.error(
        { err: error, node, fromSeq: messages[0]!.seq },
        'sink failed to apply journaled messages; the journal offers them again at next start',
      );
      continue;
    }
    deps.fleet.applied(node, messages);
    const seq = messages[messages.length - 1]!.seq;
    await journal.write(
      [{ kind: RECORD_APPLIED, node, seq, payload: Buffer.alloc(0) }],
      true,
    );
  }
}

async function serverCredentials(
  options: IngestServerOptions,
  fs: Fs,
  log: Logger,
): Promise<ServerCredentials> {
  const host = options.listen.host;
  if (options.tls !== null) {
    const tls = options.tls;
    const clientCa =
      tls.clientCaFile === null ? null : await fs.readFile(tls.clientCaFile);
    const keyPair = {
      cert_chain: await fs.readFile(tls.certFile),
      private_key: await fs.readFile(tls.keyFile),
    };
    return ServerCredentials.createSsl(
      clientCa,
      [keyPair],
      tls.requireClientCert,
    );
  }
  if (!isLoopbackHost(host)) {
    if (!options.allowPlaintext) {
      throw new ConfigError(
        'ingest.tls',
        `is required to listen on ${host} (not loopback); set ingest.tls.certFile and keyFile, or ingest.allowPlaintext: true on a trusted network`,
        null,
      );
    }
    log.warn(
      { host },
      'ingest listens WITHOUT TLS on a non-loopback address: tokens and data travel in clear text',
    );
  }
  return ServerCredentials.createInsecure();
}

function bind(
  server: Server,
  listen: IngestConfig['listen'],
  credentials: ServerCredentials,
): Promise<number> {
  const address = listen.host.includes(':')
    ? `[${listen.host}]:${listen.port}`
    : `${listen.host}:${listen.port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => {
      if (error) {
        reject(
          new ConfigError(
            'ingest.listen',
            'must be an address this host can bind (port free, address local)',
            `${address} (${error.message})`,
          ),
        );
      } else {
        resolve(port);
      }
    });
  });
}

/** How long closing waits for the sink to finish what it was given. */
const CLOSE_WAIT_FOR_SINK_MS = 5000;

async function closeServer(
  server: Server,
  ctx: StreamContext,
  journal: IngestJournal,
  log: Logger,
): Promise<void> {
  ctx.closing = true;
  for (const stream of [...ctx.streams.values()]) {
    stream.fail({
      code: Status.UNAVAILABLE,
      details: 'collector is shutting down',
    });
  }
  await ctx.commits.drain();
  // Applies still running may add applied marks; write those too. A sink
  // that hangs is given up on: its messages are journaled, unmarked.
  if (!(await ctx.applier.drain(CLOSE_WAIT_FOR_SINK_MS))) {
    log.warn(
      { waitedMs: CLOSE_WAIT_FOR_SINK_MS },
      'sink still busy at shutdown; its messages are applied again at next start',
    );
  }
  await ctx.commits.drain();
  await new Promise<void>((resolve) => {
    const cancel = ctx.clock.setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 2000);
    server.tryShutdown(() => {
      cancel();
      resolve();
    });
  });
  await journal.close();
  log.info({}, 'ingest stopped');
}
