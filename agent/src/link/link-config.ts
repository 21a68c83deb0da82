/**
 * The `collector` section of the agent config: where the collector is, how
 * to authenticate and encrypt, and how big the outbox may grow. See
 * docs/link.md. Relative paths are resolved against `baseDir`.
 */
import path from 'node:path';
import type { ConfigNode } from '../../../shared/src/config.ts';

/** TLS towards the collector. */
export interface LinkTlsConfig {
  /** CA bundle (PEM) that signs the collector's certificate; null: system roots. */
  caFile: string | null;
  /** Client certificate (PEM) for mutual TLS; null: none. */
  certFile: string | null;
  /** Client key (PEM) for mutual TLS; null: none. */
  keyFile: string | null;
  /** Name to check the collector's certificate against; null: the host. */
  serverName: string | null;
}

/** The `collector` section, validated. */
export interface LinkConfig {
  /** `host:port` of the collector's ingest. */
  address: string;
  /** File holding this agent's bearer token (one line). */
  tokenFile: string;
  /** null: plaintext, allowed only to a loopback collector or with `insecure`. */
  tls: LinkTlsConfig | null;
  /** Allow plaintext to a non-loopback collector. */
  insecure: boolean;
  outbox: {
    /** Spill directory; null: `<stateDir>/outbox`. */
    dir: string | null;
    /** Whole outbox bound; default 256 MiB. */
    maxBytes: number;
    /** Memory part bound; default 16 MiB. */
    memoryMaxBytes: number;
    /** First thinning interval, ms; default 10 s. */
    thinIntervalMs: number;
  };
  /** Reconnect backoff bounds, ms; default 1 s to 60 s. */
  reconnect: { initialMs: number; maxMs: number };
  /** Reconnect when sent messages stay unacknowledged this long; default 30 s. */
  ackTimeoutMs: number;
}

/** Parses the `collector` section; throws ConfigError naming the field. */
export function parseLinkConfig(node: ConfigNode, baseDir = '.'): LinkConfig {
  const resolve = (file: string | null): string | null =>
    file === null ? null : path.resolve(baseDir, file);
  const address = node.string('address', '127.0.0.1:7410');
  const host = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  if (!host)
    node.fail(
      'address',
      'must be host:port, e.g. collector.example:7410',
      address,
    );
  const config: LinkConfig = {
    address,
    tokenFile: resolve(node.string('tokenFile'))!,
    tls: node.has('tls')
      ? parseTls(node.child('tls'), resolve)
      : (node.raw('tls'), null),
    insecure: node.boolean('insecure', false),
    outbox: parseOutbox(node.child('outbox'), resolve),
    reconnect: parseReconnect(node.child('reconnect')),
    ackTimeoutMs: node.durationMs('ackTimeout', '30s', { minMs: 1000 }),
  };
  const hostName = host[1] ?? host[2]!;
  const isLoopback =
    hostName === 'localhost' || hostName === '::1' || /^127\./.test(hostName);
  if (config.tls === null && !isLoopback && !config.insecure) {
    node.fail(
      'tls',
      `is required for a collector that is not on loopback (${hostName}); set collector.tls.caFile, or collector.insecure: true on a trusted network`,
      null,
    );
  }
  node.done();
  return config;
}

function parseTls(
  node: ConfigNode,
  resolve: (f: string | null) => string | null,
): LinkTlsConfig {
  const tls: LinkTlsConfig = {
    caFile: resolve(node.optionalString('caFile')),
    certFile: resolve(node.optionalString('certFile')),
    keyFile: resolve(node.optionalString('keyFile')),
    serverName: node.optionalString('serverName'),
  };
  if ((tls.certFile === null) !== (tls.keyFile === null)) {
    node.fail(
      tls.certFile === null ? 'certFile' : 'keyFile',
      'must be set together with the other of certFile and keyFile',
      null,
    );
  }
  node.done();
  return tls;
}

function parseOutbox(
  node: ConfigNode,
  resolve: (f: string | null) => string | null,
): LinkConfig['outbox'] {
  const outbox = {
    dir: resolve(node.optionalString('dir')),
    maxBytes: node.bytes('maxBytes', '256MiB'),
    memoryMaxBytes: node.bytes('memoryMaxBytes', '16MiB'),
    thinIntervalMs: node.durationMs('thinInterval', '10s', { minMs: 1000 }),
  };
  if (outbox.maxBytes < 1024 * 1024)
    node.fail('maxBytes', 'must be at least 1MiB', outbox.maxBytes);
  node.done();
  return outbox;
}

function parseReconnect(node: ConfigNode): LinkConfig['reconnect'] {
  const reconnect = {
    initialMs: node.durationMs('initial', '1s', { minMs: 10 }),
    maxMs: node.durationMs('max', '60s', { minMs: 10 }),
  };
  if (reconnect.maxMs < reconnect.initialMs)
    node.fail('max', 'must be at least reconnect.initial', reconnect.maxMs);
  node.done();
  return reconnect;
}
