/** The `web:` section of the collector config. */
import type { ConfigNode } from '../../../shared/src/config.ts';

/** Default dashboard address: loopback only. */
export const DEFAULT_WEB_LISTEN = '127.0.0.1:7411';

/** Validated web settings. */
export interface WebConfig {
  /** `host:port` the dashboard, API and /metrics listen on. */
  listen: string;
  /**
   * File holding the web token. Write actions always need it; on a
   * non-loopback address every request needs it. `null`: no token, so
   * writes are refused and only loopback is allowed.
   */
  tokenFile: string | null;
  /** Export one series per GPU process (high cardinality); default false. */
  perProcessMetrics: boolean;
  /** Most live-feed pushes per second per client (default 1). */
  maxPushesPerSecond: number;
}

/** Parses and validates `web:`; throws ConfigError naming the field. */
export function parseWebConfig(node: ConfigNode): WebConfig {
  const listen = node.string('listen', DEFAULT_WEB_LISTEN);
  if (!/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(listen)) {
    node.fail('listen', 'must be host:port, e.g. 127.0.0.1:7411', listen);
  }
  const config: WebConfig = {
    listen,
    tokenFile: node.optionalString('tokenFile'),
    perProcessMetrics: node.boolean('perProcessMetrics', false),
    maxPushesPerSecond: node.number('maxPushesPerSecond', 1, {
      min: 0.1,
      max: 10,
    }),
  };
  node.done();
  return config;
}

/** Splits `host:port` (IPv6 in brackets) into its parts. */
export function splitHostPort(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[|\]$/g, '');
  return { host, port: Number(listen.slice(at + 1)) };
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return (
    host === 'localhost' ||
    host === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}
