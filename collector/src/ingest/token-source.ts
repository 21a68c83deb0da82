/**
 * The tokens the ingest accepts: those of the tokens file plus any given
 * directly. An unknown token makes it re-read the file when the file
 * changed, so `gpuwarden-collector token create` takes effect without a
 * restart.
 */
import type { Fs } from '../../../shared/src/fs.ts';
import { parseTokensFile, TokenRegistry } from './agent-tokens.ts';
import type { TokenCheck, TokenEntry } from './agent-tokens.ts';

/** A token registry that follows its file. */
export class TokenSource {
  private registry: TokenRegistry;
  private mtimeMs: number | null;

  private constructor(
    private readonly file: string | null,
    private readonly extra: TokenEntry[],
    private readonly fs: Fs,
    entries: TokenEntry[],
    mtimeMs: number | null,
  ) {
    this.registry = new TokenRegistry([...entries, ...extra]);
    this.mtimeMs = mtimeMs;
  }

  /** Reads the file (absent file: no tokens from it); throws ConfigError on a bad line. */
  static async load(
    file: string | null,
    extra: TokenEntry[],
    fs: Fs,
  ): Promise<TokenSource> {
    const { entries, mtimeMs } = await readTokens(file, fs);
    return new TokenSource(file, extra, fs, entries, mtimeMs);
  }

  /** Number of known tokens. */
  size(): number {
    return this.registry.size();
  }

  /** Checks an `authorization` value, re-reading a changed file on a miss. */
  async check(authorization: string | null): Promise<TokenCheck> {
    const first = this.registry.check(authorization);
    if (first.ok || first.reason !== 'unknown' || this.file === null) {
      return first;
    }
    await this.reloadIfChanged().catch(() => {
      // A file broken while the collector runs keeps the tokens it had;
      // the next start reports the bad line.
    });
    return this.registry.check(authorization);
  }

  private async reloadIfChanged(): Promise<void> {
    if (this.file === null || !(await this.fs.exists(this.file))) return;
    const { mtimeMs } = await this.fs.stat(this.file);
    if (mtimeMs === this.mtimeMs) return;
    const loaded = await readTokens(this.file, this.fs);
    this.registry = new TokenRegistry([...loaded.entries, ...this.extra]);
    this.mtimeMs = loaded.mtimeMs;
  }
}

async function readTokens(
  file: string | null,
  fs: Fs,
): Promise<{ entries: TokenEntry[]; mtimeMs: number | null }> {
  if (file === null || !(await fs.exists(file))) {
    return { entries: [], mtimeMs: null };
  }
  const { mtimeMs } = await fs.stat(file);
  return { entries: parseTokensFile(await fs.readText(file), file), mtimeMs };
}
