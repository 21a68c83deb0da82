/**
 * The `ingest` section of the collector config: where the gRPC ingest
 * listens, TLS, agent tokens, limits and the journal. See docs/link.md.
 */
import path from 'node:path';
import type { ConfigNode } from '../../../shared/src/config.ts';
import { MIB_BYTES } from '../../../shared/src/units.ts';

/** Default listen address: loopback only. */
export const DEFAULT_INGEST_LISTEN = '127.0.0.1:7410';

/** TLS of the ingest server. */
export interface IngestTlsConfig {
  /** Server certificate chain (PEM). */
  certFile: string;
  /** Server private key (PEM). */
  keyFile: string;
  /** CA (PEM) that signs agent client certificates; null: no mutual TLS. */
  clientCaFile: string | null;
  /** Refuse agents without a client certificate; default true with a CA. */
  requireClientCert: boolean;
}

/** The `ingest` section, validated. */
export interface IngestConfig {
  /** Address to bind; default 127.0.0.1:7410. */
  listen: { host: string; port: number };
  /** null: plaintext (loopback only unless `allowPlaintext`). */
  tls: IngestTlsConfig | null;
  /** Allow plaintext on a non-loopback address (warned at every start). */
  allowPlaintext: boolean;
  /** Tokens file (`<node> <sha256>` lines); null: `<dataDir>/agent-tokens`. */
  tokensFile: string | null;
  /** Largest frame an agent may send, bytes; default 4 MiB, at least 1 MiB. */
  maxMessageBytes: number;
  /** HTTP/2 receive window per agent connection; default 1 MiB. */
  flowControlWindowBytes: number;
  /** Per-agent message rate; default 1000/s with a burst of 20000. */
  rateLimit: { messagesPerSecond: number; burstMessages: number };
  journal: {
    /** null: `<dataDir>/ingest-journal`. */
    dir: string | null;
    /** Segment size; default 64 MiB. */
    segmentBytes: number;
    /** Retained journal size; default 1 GiB. */
    maxBytes: number;
  };
}

/** Parses `host:port` (`[::1]:7410` for IPv6); null when malformed. */
export function parseListenAddress(
  text: string,
): { host: string; port: number } | null {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  if (!match) return null;
  const port = Number(match[3]);
  if (port > 65535) return null;
  return { host: match[1] ?? match[2]!, port };
}

/** True for addresses only this host can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Parses the `ingest` section; throws ConfigError naming the field. */
export function parseIngestConfig(node: ConfigNode): IngestConfig {
  const listenText = node.string('listen', DEFAULT_INGEST_LISTEN);
  const listen = parseListenAddress(listenText);
  if (listen === null) {
    node.fail('listen', 'must be host:port, e.g. 0.0.0.0:7410', listenText);
  }
  const config: IngestConfig = {
    listen,
    tls: node.has('tls')
      ? parseTls(node.child('tls'))
      : (node.raw('tls'), null),
    allowPlaintext: node.boolean('allowPlaintext', false),
    tokensFile: node.optionalString('tokensFile'),
    maxMessageBytes: node.bytes('maxMessageBytes', '4MiB'),
    flowControlWindowBytes: node.bytes('flowControlWindow', '1MiB'),
    rateLimit: parseRateLimit(node.child('rateLimit')),
    journal: parseJournal(node.child('journal')),
  };
  if (config.maxMessageBytes < MIB_BYTES) {
    node.fail(
      'maxMessageBytes',
      'must be at least 1MiB',
      config.maxMessageBytes,
    );
  }
  const window = config.flowControlWindowBytes;
  if (window < 64 * 1024 || window > 256 * MIB_BYTES) {
    node.fail('flowControlWindow', 'must be between 64KiB and 256MiB', window);
  }
  node.done();
  return config;
}

function parseTls(node: ConfigNode): IngestTlsConfig {
  const clientCaFile = node.optionalString('clientCaFile');
  const tls: IngestTlsConfig = {
    certFile: node.string('certFile'),
    keyFile: node.string('keyFile'),
    clientCaFile,
    requireClientCert: node.boolean('requireClientCert', clientCaFile !== null),
  };
  if (tls.requireClientCert && clientCaFile === null) {
    node.fail('requireClientCert', 'needs clientCaFile', true);
  }
  node.done();
  return tls;
}

function parseRateLimit(node: ConfigNode): IngestConfig['rateLimit'] {
  const rate = {
    messagesPerSecond: node.number('messagesPerSecond', 1000, { min: 1 }),
    burstMessages: node.number('burstMessages', 20000, {
      min: 1,
      integer: true,
    }),
  };
  node.done();
  return rate;
}

function parseJournal(node: ConfigNode): IngestConfig['journal'] {
  const journal = {
    dir: node.optionalString('dir'),
    segmentBytes: node.bytes('segmentBytes', '64MiB'),
    maxBytes: node.bytes('maxBytes', '1GiB'),
  };
  if (journal.segmentBytes < MIB_BYTES) {
    node.fail('segmentBytes', 'must be at least 1MiB', journal.segmentBytes);
  }
  if (journal.maxBytes < journal.segmentBytes * 2) {
    node.fail(
      'maxBytes',
      'must be at least twice segmentBytes',
      journal.maxBytes,
    );
  }
  node.done();
  return journal;
}

/** The tokens file and journal dir with defaults under `dataDir`. */
export function resolveIngestPaths(
  config: IngestConfig,
  dataDir: string,
): { tokensFile: string; journalDir: string } {
  return {
    tokensFile: config.tokensFile ?? path.join(dataDir, 'agent-tokens'),
    journalDir: config.journal.dir ?? path.join(dataDir, 'ingest-journal'),
  };
}
