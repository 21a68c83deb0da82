/**
 * Test helpers around nvidia-smi: the recorded fixtures and the path of
 * the fake nvidia-smi program.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURE_DIR = fileURLToPath(
  new URL('../../fixtures/nvidia-smi/', import.meta.url),
);

/** The fake nvidia-smi program (runnable by execFile, no shell). */
export const FAKE_SMI_PATH = fileURLToPath(
  new URL('./nvidia-smi', import.meta.url),
);

/** Raw bytes of a recorded nvidia-smi fixture. */
export function smiFixture(name: string): Buffer {
  return readFileSync(FIXTURE_DIR + name);
}

/** A fixture as text (UTF-8, CR kept as recorded). */
export function smiFixtureText(name: string): string {
  return smiFixture(name).toString('utf8');
}

/** Names of every recorded nvidia-smi output fixture. */
export function smiFixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((name) => name !== 'SOURCES.md')
    .sort();
}
