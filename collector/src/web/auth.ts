/**
 * Web authentication: one bearer token, compared in constant time. Write
 * actions always need it; on a non-loopback address every request does.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Decides whether a request may read or write. */
export interface WebAuth {
  /** True when the request carries the right token. */
  hasToken(req: IncomingMessage, url: URL): boolean;
  /** True when reads need the token too (non-loopback listen address). */
  readsNeedToken: boolean;
  /** True when a token is configured at all. */
  hasTokenConfigured: boolean;
}

/** Creates the checker; `token` null means no writes are possible. */
export function createWebAuth(
  token: string | null,
  readsNeedToken: boolean,
): WebAuth {
  const expected = token === null ? null : digest(token);
  return {
    readsNeedToken,
    hasTokenConfigured: expected !== null,
    hasToken(req, url) {
      if (expected === null) return false;
      const presented = presentedToken(req, url);
      return presented !== null && timingSafeEqual(digest(presented), expected);
    },
  };
}

function presentedToken(req: IncomingMessage, url: URL): string | null {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  // Browsers cannot set headers on a WebSocket; the live feed passes it in
  // the query string instead.
  return url.searchParams.get('token');
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
