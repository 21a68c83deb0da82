/**
 * Entry of `npm run demo`: runs the Jasper story and ends with the
 * postmortem's path, its summary and the time from contention to
 * recovery. `--json` prints the summary as JSON for scripts and tests;
 * `--dir DIR` chooses the folder (default ./data/demo).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runDemo } from './jasper-demo.ts';
import type { DemoSummary } from './jasper-demo.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    json: { type: 'boolean', default: false },
    dir: { type: 'string', default: 'data/demo' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (values.help) {
  console.log(
    'usage: npm run demo [-- --json] [-- --dir DIR]\n\nPlays the Jasper incident on a simulated RTX 4090 with the real agent and collector.',
  );
  process.exit(0);
}

const dir = path.resolve(values.dir);
const print = values.json
  ? (line: string) => console.error(line)
  : (line: string) => console.log(line);

print(
  'gpuwarden demo: the Jasper incident on a simulated RTX 4090 (about two and a half minutes)',
);
try {
  const summary = await runDemo({ dir, print });
  if (values.json) console.log(JSON.stringify(summary));
  else printSummary(summary);
  process.exitCode =
    summary.alive.codeTunnel || !summary.alive.xorg || !summary.alive.ollama
      ? 1
      : 0;
} catch (error) {
  console.error(`gpuwarden demo: ${(error as Error).message.split('\n')[0]}`);
  process.exitCode = 1;
}

function printSummary(s: DemoSummary): void {
  const file = path.join(
    path.relative(process.cwd(), s.dir),
    'collector',
    'postmortems',
    `${s.incident.id}.md`,
  );
  const table = s.postmortem
    .split('\n')
    .filter((line) => line.startsWith('| **'))
    .join('\n');
  console.log('');
  console.log(`postmortem: ${file}`);
  console.log(table);
  console.log('');
  console.log(`root cause: ${s.incident.rootCause ?? 'n/a'}`);
  console.log(
    `contention to recovery: ${s.timings.recoveredSeconds ?? 'n/a'} s (guard SIGTERM at ${s.timings.sigtermSeconds ?? 'n/a'} s, VRAM freed at ${s.timings.freedSeconds ?? 'n/a'} s)`,
  );
  console.log(
    `code-tunnel ${s.alive.codeTunnel ? 'STILL RUNNING' : 'killed'}; Xorg ${s.alive.xorg ? 'untouched' : 'DEAD'}; Ollama ${s.alive.ollama ? 'untouched' : 'DEAD'}; ${s.messages.recorded} agent messages, ${s.messages.gaps} gaps`,
  );
}
