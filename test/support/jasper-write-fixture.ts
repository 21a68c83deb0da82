/**
 * Writes test/fixtures/jasper/jasper-incident.jsonl from jasper-stream.ts:
 * `node --import tsx test/support/jasper-write-fixture.ts`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { jasperStreamText } from './jasper-stream.ts';

/** Where the committed fixture lives. */
export const JASPER_FIXTURE_PATH = fileURLToPath(
  new URL('../fixtures/jasper/jasper-incident.jsonl', import.meta.url),
);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(JASPER_FIXTURE_PATH, jasperStreamText());
  console.log(`wrote ${JASPER_FIXTURE_PATH}`);
}
