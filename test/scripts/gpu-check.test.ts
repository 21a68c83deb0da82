/**
 * The GPU check's dry run, end to end: `scripts/gpu-check.sh` against the
 * fake NVML library and fake nvidia-smi, with a real `sleep` process as
 * the offender that the guard must kill (about 12 s of real time).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isProcessAlive } from '../fakes/gpu-state.ts';

const ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../..',
);

interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCheck(args: string[], env: Record<string, string>) {
  return new Promise<ScriptRun>((resolve, reject) => {
    const child = spawn('bash', ['scripts/gpu-check.sh', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('scripts/gpu-check.sh', function () {
  this.timeout(60_000);

  it('passes its dry run: the guard kills the offender and nothing else, and its VRAM comes back', async () => {
    const run = await runCheck([], { GPUWARDEN_GPU_CHECK_FAKE: '1' });

    expect(run.code, run.stderr).to.equal(0);
    const pid = Number(/offender pid (\d+) is gone/.exec(run.stdout)?.[1]);
    expect(pid).to.be.greaterThan(1);
    expect(isProcessAlive(pid)).to.equal(false);
    expect(run.stdout).to.contain('the three readings agree');
    expect(run.stdout).to.match(new RegExp(`victim\\(s\\): ${pid}\\n`));
    expect(run.stdout).to.match(
      new RegExp(`signals asked for: +pid ${pid} SIGTERM at [\\d.]+ s\\n`),
    );
    expect(run.stdout).to.match(/SIGKILL needed: +no/);
    expect(run.stdout).to.contain(`exit status 143 (killed by SIGTERM)`);
    expect(run.stdout).to.match(/\(\+2\.0 GiB\)/);
    expect(run.stdout).to.match(/^PASS: the guard killed only the offender/m);
  });

  it('exits 2 with one line when --gib is not a size', async () => {
    const run = await runCheck(['--gib', 'lots'], {
      GPUWARDEN_GPU_CHECK_FAKE: '1',
    });

    expect(run.code).to.equal(2);
    expect(run.stderr.trim().split('\n')).to.deep.equal([
      "CANNOT RUN: --gib must be a number of GiB above 0 and at most 64, got 'lots'",
    ]);
  });
});
