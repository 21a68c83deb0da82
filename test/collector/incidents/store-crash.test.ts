import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

const WRITER = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'support',
  'store-writer.ts',
);

/** Runs the writer until it has saved `atLeast` notes, then SIGKILLs it. */
function runAndKill(dir: string, atLeast: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lastSaved = 0;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)));
    child.stdout.on('data', (chunk: Buffer) => {
      for (const match of String(chunk).matchAll(/saved (\d+)/g)) {
        lastSaved = Number(match[1]);
      }
      if (lastSaved >= atLeast && child.exitCode === null) {
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(lastSaved);
      else reject(new Error(`writer exited with ${code}: ${stderr}`));
    });
  });
}

describe('incident store under SIGKILL', () => {
  let h: Harness;

  before(async () => {
    h = await createHarness();
  });

  after(() => h.cleanup());

  it('loses nothing a killed writer reported saved, and reopens cleanly', async () => {
    const firstRun = await runAndKill(h.dir, 25);
    const secondRun = await runAndKill(h.dir, 25);

    const manager = await h.reopen();
    const incidents = manager.list();
    expect(incidents).to.have.length(1);
    const notes = incidents[0]!.timeline
      .filter((e) => e.kind === 'note')
      .map((e) => e.text);
    expect(notes.length).to.be.at.least(firstRun + secondRun);
    for (let n = 1; n <= Math.max(firstRun, secondRun); n += 1) {
      expect(notes).to.include(`note ${n}`);
    }
    expect(incidents[0]!.timeline.some((e) => e.text === 'warning 1')).to.equal(
      true,
    );
    const files = await readdir(h.dir);
    expect(files).to.include('incidents.json');
  });
});
