/**
 * Agent bearer tokens. A token is `gw_<node>_<secret>` with 32 random bytes
 * of secret in base64url; the collector stores only its SHA-256 (hex), in
 * a tokens file of lines `<node> <sha256-hex>` (`#` starts a comment). A
 * node may have several lines, so a token can be rotated without a gap.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ConfigError } from '../../../shared/src/errors.ts';
import { NODE_NAME_PATTERN } from '../../../shared/src/proto/validate-message.ts';

/** One accepted token, by hash. */
export interface TokenEntry {
  node: string;
  /** SHA-256 of the whole token text, 64 lowercase hex digits. */
  tokenSha256: string;
}

/** Who a request's `authorization` metadata says it is. */
export type TokenCheck =
  | { ok: true; node: string }
  | { ok: false; reason: 'missing' | 'malformed' | 'unknown' };

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A new token for `node`: `gw_<node>_<43 base64url characters>`. */
export function createAgentToken(
  node: string,
  random: (size: number) => Buffer = randomBytes,
): string {
  return `gw_${node}_${random(32).toString('base64url')}`;
}

/** SHA-256 of a token, hex. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** One tokens-file line for `entry`, newline included. */
export function formatTokenLine(
  entry: TokenEntry,
  createdAtIso: string,
): string {
  return `${entry.node} ${entry.tokenSha256}  # created ${createdAtIso}\n`;
}

/** Parses a tokens file; throws {@link ConfigError} naming the bad line. */
export function parseTokensFile(text: string, source: string): TokenEntry[] {
  const entries: TokenEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const [node, hash, extra] = line.split(/\s+/);
    const valid =
      node !== undefined &&
      NODE_NAME_PATTERN.test(node) &&
      hash !== undefined &&
      SHA256_HEX.test(hash) &&
      extra === undefined;
    if (!valid) {
      throw new ConfigError(
        `line ${i + 1}`,
        'must be "<node> <sha256 hex of the token>"',
        raw,
        source,
      );
    }
    entries.push({ node, tokenSha256: hash });
  });
  return entries;
}

/** Looks tokens up by hash. */
export class TokenRegistry {
  private readonly byHash = new Map<string, string>();

  constructor(entries: readonly TokenEntry[]) {
    for (const entry of entries) {
      this.byHash.set(entry.tokenSha256.toLowerCase(), entry.node);
    }
  }

  /** How many tokens are known. */
  size(): number {
    return this.byHash.size;
  }

  /** Checks an `authorization` metadata value (`Bearer <token>`). */
  check(authorization: string | null): TokenCheck {
    if (authorization === null || authorization.trim() === '') {
      return { ok: false, reason: 'missing' };
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) return { ok: false, reason: 'malformed' };
    const node = this.byHash.get(hashToken(match[1]!));
    return node === undefined
      ? { ok: false, reason: 'unknown' }
      : { ok: true, node };
  }
}
