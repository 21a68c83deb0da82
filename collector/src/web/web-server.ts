/**
 * The collector's HTTP side: the dashboard, the REST API, the live feed
 * and /metrics on one port, loopback by default. Reads are open on
 * loopback; on any other address every request needs the web token, and
 * write actions always do.
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../../shared/src/clock.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import { handleApi } from './api-routes.ts';
import { createWebAuth } from './auth.ts';
import { sendError, sendText } from './http-json.ts';
import { createLiveFeed } from './live-feed.ts';
import { createMetricsRegistry } from './metrics.ts';
import type { WebSources } from './ports.ts';
import { loadStaticFiles } from './static-files.ts';
import { isLoopbackHost, splitHostPort } from './web-config.ts';
import type { WebConfig } from './web-config.ts';

/** A running web server. */
export interface WebServer {
  /** Base URL, e.g. `http://127.0.0.1:7411`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Collaborators of {@link startWebServer}. */
export interface WebServerDeps {
  sources: WebSources;
  clock: Clock;
  logger: Logger;
  /** The web token's text, read by the composition root; null if none. */
  token: string | null;
}

/**
 * Starts listening on `config.listen` (port 0 picks a free one). Refuses a
 * non-loopback address without a token: the dashboard shows process
 * command lines and lets people resolve incidents.
 */
export async function startWebServer(
  config: WebConfig,
  deps: WebServerDeps,
): Promise<WebServer> {
  const { host, port } = splitHostPort(config.listen);
  const loopback = isLoopbackHost(host);
  if (!loopback && deps.token === null) {
    throw new Error(
      `web.listen ${config.listen} is not loopback: set web.tokenFile so the dashboard needs a token`,
    );
  }
  const log = deps.logger.child({ component: 'web' });
  const auth = createWebAuth(deps.token, !loopback);
  const files = loadStaticFiles();
  const registry = createMetricsRegistry(deps.sources, {
    perProcessMetrics: config.perProcessMetrics,
  });
  const feed = createLiveFeed(
    { maxPushesPerSecond: config.maxPushesPerSecond },
    deps,
  );

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const authorized = auth.hasToken(req, url);
    if (url.pathname === '/healthz')
      return sendText(res, 200, 'text/plain', 'ok\n');
    if (auth.readsNeedToken && !authorized && !files.has(url.pathname)) {
      return sendError(
        res,
        401,
        'send the web token as Authorization: Bearer <token>',
      );
    }
    if (url.pathname === '/readyz') {
      const ready = deps.sources.isReady();
      return sendText(
        res,
        ready ? 200 : 503,
        'text/plain',
        ready ? 'ready\n' : 'starting\n',
      );
    }
    if (url.pathname === '/metrics') {
      return sendText(res, 200, registry.contentType, await registry.metrics());
    }
    if (url.pathname.startsWith('/api/')) {
      return handleApi(req, res, url, {
        sources: deps.sources,
        authorized,
        writesEnabled: auth.hasTokenConfigured,
      });
    }
    const file = files.get(url.pathname);
    if (file && (req.method === 'GET' || req.method === 'HEAD')) {
      return sendText(res, 200, file.contentType, file.body);
    }
    sendError(res, 404, 'not found');
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err, path: req.url }, 'request failed');
      if (!res.headersSent)
        sendError(res, 500, 'internal error; see the collector log');
      else res.destroy();
    });
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (
      url.pathname !== '/live' ||
      (auth.readsNeedToken && !auth.hasToken(req, url))
    ) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    feed.handleUpgrade(req, socket, head);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  }).catch((error: unknown) => {
    // The feed's push timer would keep the process alive after a failed start.
    feed.stop();
    throw error;
  });
  const address = server.address();
  const boundPort =
    typeof address === 'object' && address ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  log.info({ listen: `${shownHost}:${boundPort}` }, 'web server listening');

  return {
    url: `http://${shownHost}:${boundPort}`,
    port: boundPort,
    close: () =>
      new Promise<void>((resolve) => {
        feed.stop();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
