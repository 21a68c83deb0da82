import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { runCommand } from '../../../collector/src/run/run-command.ts';
import type { RunCommandDeps } from '../../../collector/src/run/run-command.ts';
import { createSystemClock } from '../../../shared/src/clock.ts';
import { UsageError } from '../../../shared/src/errors.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';
import type { LogLine } from '../../support/memory-logger.ts';
import { createServiceFixture, eventually } from './service-harness.ts';
import type { ServiceFixture } from './service-harness.ts';

const BIN = path.resolve('bin/gpuwarden-collector.js');
const START_LINE =
  /^gpuwarden collector: dashboard http:\/\/127\.0\.0\.1:\d+ {2}ingest 127\.0\.0\.1:\d+ {2}data \S+\n$/;

/** Fake signals: the test raises them by hand. */
function fakeDeps() {
  let raise: (signal: string) => void = () => undefined;
  const exits: number[] = [];
  const memory = createMemoryLogger('info');
  const deps: RunCommandDeps = {
    fs: createNodeFs(),
    clock: createSystemClock(),
    createLogger: () => memory.logger,
    onStopSignal: (listener) => {
      raise = listener;
      return () => (raise = () => undefined);
    },
    exitNow: (code) => void exits.push(code),
  };
  return { deps, exits, lines: memory.lines, raise: (s: string) => raise(s) };
}

describe('run command', () => {
  let fixture: ServiceFixture;
  let configFile: string;

  before(async () => {
    fixture = await createServiceFixture();
    configFile = path.join(fixture.dir, 'collector.yaml');
    await writeFile(configFile, stringify(fixture.raw));
  });

  after(() => fixture.remove());

  describe('in-process', () => {
    it('prints one start line, stops on the first signal and returns 0', async () => {
      const fake = fakeDeps();
      const out: string[] = [];
      const io = { stdout: (t: string) => out.push(t), stderr: () => {} };
      const running = runCommand(fake.deps).run(['--config', configFile], io);
      await eventually('the start line', async () => out[0] ?? null);

      fake.raise('SIGTERM');
      const code = await running;

      expect(code).to.equal(0);
      expect(out).to.have.length(1);
      expect(out[0]).to.match(START_LINE);
      expect(out[0]).to.contain(`data ${fixture.dataDir}`);
      expect(messages(fake.lines)).to.include.members([
        'stop signal received',
        'collector stopped',
      ]);
    });

    it('exits at once on a second signal', async () => {
      const fake = fakeDeps();
      const out: string[] = [];
      const io = { stdout: (t: string) => out.push(t), stderr: () => {} };
      const running = runCommand(fake.deps).run(['--config', configFile], io);
      await eventually('the start line', async () => out[0] ?? null);

      fake.raise('SIGINT');
      fake.raise('SIGINT');
      await running;

      expect(fake.exits).to.deep.equal([1]);
    });

    it('asks for --config when it is missing', async () => {
      const io = { stdout: () => {}, stderr: () => {} };
      const error = await runCommand(fakeDeps().deps)
        .run([], io)
        .catch((e: unknown) => e);

      expect(error).to.be.instanceOf(UsageError);
      expect((error as Error).message).to.contain('run needs --config FILE');
    });
  });

  describe('through bin/gpuwarden-collector.js', () => {
    const exec = promisify(execFile);
    const cli = (args: string[]) =>
      exec(process.execPath, [BIN, ...args], { timeout: 15_000 }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );

    it('exits 2 with one line for a bad config file', async () => {
      const bad = path.join(fixture.dir, 'bad.yaml');
      await writeFile(bad, 'slos:\n  - name: x\n    targetPercent: 0.995\n');

      const result = await cli(['run', '--config', bad]);

      expect(result.code).to.equal(2);
      expect(result.stdout).to.equal('');
      expect(result.stderr).to.equal(
        `gpuwarden-collector run: ${bad}: slos[0].targetPercent is a percent, not a fraction: write 99.5 for 99.5 %, got 0.995\n`,
      );
    });

    it('shows its usage with --help', async () => {
      const result = await cli(['run', '--help']);

      expect(result.code).to.equal(0);
      expect(result.stdout).to.contain(
        'usage: gpuwarden-collector run --config F',
      );
    });

    it('refuses a second collector on the same data dir; the first keeps serving', async () => {
      const first = spawn(process.execPath, [
        BIN,
        'run',
        '--config',
        configFile,
      ]);
      let stdout = '';
      first.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
      const exited = new Promise<number | null>((resolve) =>
        first.on('exit', (code) => resolve(code)),
      );
      try {
        await eventually('the start line', async () =>
          stdout.includes('\n') ? stdout : null,
        );
        const url = /dashboard (\S+)/.exec(stdout)![1]!;

        const second = await cli(['run', '--config', configFile]);
        const ready = await fetch(`${url}/readyz`);

        expect(second.code).to.equal(1);
        expect(second.stdout).to.equal('');
        expect(second.stderr).to.equal(
          `gpuwarden-collector run: another gpuwarden collector (pid ${first.pid}) is using ${fixture.dataDir}; stop it, or give this one another dataDir\n`,
        );
        expect(ready.status).to.equal(200);
        first.kill('SIGTERM');
        expect(await exited).to.equal(0);
      } finally {
        if (first.exitCode === null) first.kill('SIGKILL');
      }
    });

    it('serves until SIGTERM, then exits 0', async () => {
      const child = spawn(process.execPath, [
        BIN,
        'run',
        '--config',
        configFile,
      ]);
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
      const exited = new Promise<number | null>((resolve) =>
        child.on('exit', (code) => resolve(code)),
      );
      try {
        await eventually('the start line', async () =>
          stdout.includes('\n') ? stdout : null,
        );
        const url = /dashboard (\S+)/.exec(stdout)![1]!;
        const ready = await fetch(`${url}/readyz`);

        child.kill('SIGTERM');
        expect(ready.status).to.equal(200);
        expect(await exited).to.equal(0);
        expect(stdout).to.match(START_LINE);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
  });
});

function messages(lines: LogLine[]): string[] {
  return lines.map((line) => line.msg);
}
