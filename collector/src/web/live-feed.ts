/**
 * The dashboard's live feed over WebSocket. On connect a client gets the
 * whole state; afterwards, at most `maxPushesPerSecond` times a second, the
 * parts that changed (nodes, SLOs, incidents), each sent whole. A slow
 * client is never buffered without bound: while its socket holds more than
 * `maxBufferedBytes` unsent, pushes to it are skipped and it gets the
 * latest state once it drains.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { Clock, CancelTimer } from '../../../shared/src/clock.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { ChangeTopic, WebSources } from './ports.ts';

/** Options of {@link createLiveFeed}. */
export interface LiveFeedOptions {
  /** Most pushes per second per client (default 1). */
  maxPushesPerSecond: number;
  /** Unsent bytes above which a client is skipped (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Most clients at once (default 100). */
  maxClients?: number;
}

/** The live feed: attach upgrades, stop on shutdown. */
export interface LiveFeed {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  clientCount(): number;
  stop(): void;
}

interface Client {
  socket: WebSocket;
  pending: Set<ChangeTopic>;
}

const ALL_TOPICS: ChangeTopic[] = ['nodes', 'slos', 'incidents'];

/** Creates the feed; pushes start at once and stop with `stop()`. */
export function createLiveFeed(
  options: LiveFeedOptions,
  deps: { sources: WebSources; clock: Clock; logger: Logger },
): LiveFeed {
  const log = deps.logger.child({ component: 'live-feed' });
  const maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  const maxClients = options.maxClients ?? 100;
  const server = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const clients = new Set<Client>();

  const unsubscribe = deps.sources.onChange((topic) => {
    for (const client of clients) client.pending.add(topic);
  });
  const cancelTick: CancelTimer = deps.clock.setInterval(
    () => flush(clients, deps.sources, maxBuffered),
    1000 / options.maxPushesPerSecond,
  );

  return {
    handleUpgrade(req, socket, head) {
      if (clients.size >= maxClients) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
        return;
      }
      server.handleUpgrade(req, socket, head, (ws) => {
        const client: Client = { socket: ws, pending: new Set(ALL_TOPICS) };
        clients.add(client);
        ws.on('close', () => clients.delete(client));
        ws.on('error', (err) => log.debug({ err }, 'live client error'));
        // Clients only listen; anything they send is ignored.
        ws.on('message', () => undefined);
        flush(new Set([client]), deps.sources, maxBuffered);
      });
    },
    clientCount: () => clients.size,
    stop() {
      cancelTick();
      unsubscribe();
      for (const client of clients) client.socket.close(1001, 'shutting down');
      server.close();
    },
  };
}

function flush(
  clients: Set<Client>,
  sources: WebSources,
  maxBufferedBytes: number,
): void {
  const cache = new Map<ChangeTopic, unknown>();
  const read = (topic: ChangeTopic): unknown => {
    if (!cache.has(topic)) cache.set(topic, readTopic(sources, topic));
    return cache.get(topic);
  };

  for (const client of clients) {
    const socket = client.socket;
    if (client.pending.size === 0 || socket.readyState !== socket.OPEN)
      continue;
    if (socket.bufferedAmount > maxBufferedBytes) continue;
    const delta: Record<string, unknown> = { type: 'delta' };
    for (const topic of client.pending) delta[topic] = read(topic);
    client.pending.clear();
    socket.send(JSON.stringify(delta));
  }
}

function readTopic(sources: WebSources, topic: ChangeTopic): unknown {
  if (topic === 'nodes') return sources.nodes();
  if (topic === 'slos') return sources.slos();
  return sources.incidents.list();
}
