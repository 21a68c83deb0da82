/** The gpuwarden version, read once from package.json at the repo root. */
import { readFileSync } from 'node:fs';

/** Returns the version in package.json, e.g. `0.1.0`. */
export function readVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}
