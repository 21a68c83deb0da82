/**
 * `npm run bench`: runs every `bench/*.bench.ts` in turn (or those whose
 * name contains an argument, e.g. `npm run bench -- sampling`). Each prints
 * its figures, measured side by side in this one run.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => filter.length === 0 || filter.some((f) => name.includes(f)))
  .sort();

for (const name of files) {
  console.log(`\n== ${name.replace('.bench.ts', '')} ==`);
  const module = (await import(new URL(name, import.meta.url).href)) as {
    default: () => Promise<void>;
  };
  await module.default();
}
