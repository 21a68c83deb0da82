/**
 * The checks the collector makes before and while it opens its stores and
 * ports, each turning a failure into one line that says what and what to
 * do: the data directory must be writable, the web token file readable,
 * and both listen addresses free.
 */
import net from 'node:net';
import path from 'node:path';
import { ConfigError, GpuwardenError } from '../../../shared/src/errors.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { WebConfig } from '../web/web-config.ts';
import { isLoopbackHost, splitHostPort } from '../web/web-config.ts';

const WRITE_PROBE = '.gpuwarden-write-check';

/** Creates `dataDir` and proves it writable; throws `STORE_FAILED` if not. */
export async function ensureWritableDataDir(
  dataDir: string,
  fs: Fs,
): Promise<void> {
  const probe = path.join(dataDir, WRITE_PROBE);
  try {
    await fs.mkdir(dataDir);
    await fs.writeFileAtomic(probe, 'ok\n');
    await fs.rm(probe);
  } catch (error) {
    throw new GpuwardenError(
      'STORE_FAILED',
      `data directory ${dataDir} is not writable (${errnoOf(error) ?? 'error'}); create it for the collector's user or set dataDir in the config`,
      { cause: error },
    );
  }
}

/**
 * Reads the web token (trimmed) from `web.tokenFile`; null when none is
 * set. Throws ConfigError when the file is unreadable or empty, or when
 * the dashboard would listen beyond loopback without a token.
 */
export async function readWebToken(
  web: WebConfig,
  fs: Fs,
): Promise<string | null> {
  if (web.tokenFile === null) {
    const { host } = splitHostPort(web.listen);
    if (!isLoopbackHost(host)) {
      throw new ConfigError(
        'web.tokenFile',
        `must be set when web.listen (${web.listen}) is not loopback, so the dashboard needs a token`,
        null,
      );
    }
    return null;
  }
  let text: string;
  try {
    text = await fs.readText(web.tokenFile);
  } catch (error) {
    throw new ConfigError(
      'web.tokenFile',
      'must be a readable file holding the web token',
      `${web.tokenFile} (${errnoOf(error) ?? 'unreadable'})`,
    );
  }
  const token = text.trim();
  if (token === '') {
    throw new ConfigError(
      'web.tokenFile',
      'must hold the web token (one line); it is empty',
      web.tokenFile,
    );
  }
  return token;
}

/** Where a listener failed, for {@link listenFailure}. */
export interface ListenTarget {
  /** `agents` or `the dashboard`. */
  what: string;
  /** The config key that sets the address, e.g. `ingest.listen`. */
  key: string;
  host: string;
  port: number;
}

/** The one-line error for a port the collector could not listen on. */
export function listenFailure(
  target: ListenTarget,
  code: string | null,
  cause: unknown,
): GpuwardenError {
  const address = formatAddress(target.host, target.port);
  const reason =
    code === 'EADDRINUSE'
      ? 'the port is in use by another program (EADDRINUSE); stop it'
      : code === 'EADDRNOTAVAIL'
        ? 'the address is not on this host (EADDRNOTAVAIL); use one of its addresses'
        : code === 'EACCES'
          ? 'permission denied (EACCES); ports below 1024 need privileges, pick a higher one'
          : `it failed (${code ?? 'unknown cause'})`;
  return new GpuwardenError(
    'SOURCE_UNAVAILABLE',
    `cannot listen for ${target.what} on ${address}: ${reason}, or set ${target.key} to a free address`,
    { cause },
  );
}

/**
 * Why `host:port` cannot be bound, found by trying it: an errno code such
 * as `EADDRINUSE`, or null when it can be bound now.
 */
export function probeListen(
  host: string,
  port: number,
): Promise<string | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error) => resolve(errnoOf(error)));
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => resolve(null));
    });
  });
}

/** `host:port`, IPv6 hosts in brackets. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The errno code of a Node.js system error, or null. */
export function errnoOf(error: unknown): string | null {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : null;
}
