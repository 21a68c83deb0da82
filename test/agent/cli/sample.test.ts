import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createSampleCommand } from '../../../agent/src/cli/sample.ts';
import type { SampleCommandDeps } from '../../../agent/src/cli/sample.ts';
import { renderSampleTable } from '../../../agent/src/gpu/sample-table.ts';
import type {
  GpuSource,
  SourceFailure,
  SourceSample,
} from '../../../agent/src/gpu/source.ts';
import { runCli } from '../../../shared/src/cli.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import { err, ok } from '../../../shared/src/result.ts';
import type { Result } from '../../../shared/src/result.ts';
import type { SampleSource, Snapshot } from '../../../shared/src/snapshot.ts';
import { buildFakeNvml } from '../../fakes/build-fake-nvml.ts';
import { jasperState, writeGpuState } from '../../fakes/gpu-state.ts';
import { FakeClock } from '../../support/fake-clock.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const procFixtures = path.join(repoRoot, 'test/fixtures/proc');
const GIB = 2 ** 30;
const UUID = 'GPU-4a3f7c1e-8b2d-4e6f-9a1c-3d5e7f9b2c4a';

const SAVED_CSV = `index, uuid, name, memory.total [MiB], memory.used [MiB], memory.free [MiB]
0, ${UUID}, NVIDIA GeForce RTX 4090, 24564 MiB, 3072 MiB, 21492 MiB
gpu_uuid, pid, process_name, used_gpu_memory [MiB]
${UUID}, 41872, /usr/bin/code-tunnel, 3072 MiB
`;

function jasperSample(): SourceSample {
  return {
    source: 'nvml',
    driverVersion: '550.54.14',
    gpus: [
      {
        index: 0,
        uuid: UUID,
        name: 'NVIDIA GeForce RTX 4090',
        pciBusId: '00000000:01:00.0',
        memory: {
          totalBytes: 24 * GIB,
          usedBytes: 23 * GIB,
          freeBytes: GIB,
          reservedBytes: null,
        },
        utilizationPercent: { gpu: 97, memory: null },
        temperatureC: 71,
        powerWatts: null,
        migEnabled: false,
        processes: [
          { pid: 5120, type: 'compute', usedBytes: 20 * GIB, name: 'ollama' },
          { pid: 41872, type: 'compute', usedBytes: 3 * GIB, name: 'code' },
          { pid: 28290, type: 'compute', usedBytes: null, name: 'python' },
        ],
      },
    ],
    problems: [],
  };
}

function fakeSource(
  result: Result<SourceSample, SourceFailure>,
): () => GpuSource {
  return () => ({
    kind: 'nvml',
    sample: async () => result,
    close: async () => undefined,
  });
}

function deps(
  source: () => GpuSource = fakeSource(ok(jasperSample())),
): SampleCommandDeps {
  return {
    clock: new FakeClock(),
    exec: () => Promise.reject(new Error('no exec in this test')),
    fs: createNodeFs(),
    logger: createSilentLogger(),
    hostname: () => 'jasper',
    procRoot: path.join(procFixtures, 'root'),
    passwdPath: path.join(procFixtures, 'passwd'),
    createSource: source,
  };
}

async function run(args: string[], commandDeps = deps()) {
  const out: string[] = [];
  const errors: string[] = [];
  const code = await runCli(
    {
      program: 'gpuwarden-agent',
      version: '0.0.0',
      description: 'test',
      commands: { sample: createSampleCommand(commandDeps) },
    },
    ['sample', ...args],
    { stdout: (t) => out.push(t), stderr: (t) => errors.push(t) },
  );
  return { code, stdout: out.join(''), stderr: errors.join('') };
}

describe('gpuwarden-agent sample', () => {
  let tmp: string;

  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'gpuwarden-sample-'));
  });

  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe('in process', () => {
    it('prints the snapshot as JSON with /proc details', async () => {
      const { code, stdout } = await run(['--json']);

      const snapshot = JSON.parse(stdout) as Snapshot;
      expect(code).to.equal(0);
      expect(snapshot).to.include({
        node: 'jasper',
        takenAt: '2026-02-28T14:00:00.000Z',
        source: 'nvml',
        driverVersion: '550.54.14',
      });
      expect(snapshot.gpus[0]?.processes[1]).to.include({
        pid: 41872,
        name: 'code-tunnel',
        unit: 'code-tunnel.service',
        usedBytes: 3 * GIB,
      });
      expect(snapshot.gpus[0]?.utilizationPercent.memory).to.equal(null);
    });

    it('prints a table with units and n/a for the unknown', async () => {
      const { code, stdout } = await run([]);

      expect(code).to.equal(0);
      expect(stdout).to.contain('node jasper');
      expect(stdout).to.contain('[###################.]  96%');
      expect(stdout).to.match(/41872 +dev +C +3\.0 GiB +2026-02-28 13:47/);
      expect(stdout).to.match(/5120 +ollama +C +20\.0 GiB/);
      expect(stdout).to.contain('code-tunnel.service');
      expect(stdout).to.contain('ollama.service');
      expect(stdout).to.match(
        /28290 +n\/a +C +n\/a +n\/a +n\/a +\[not in \/proc\] python/,
      );
      expect(stdout).to.not.match(/\b0 B\b/);
    });

    it('exits 2 with one line for an unknown --source', async () => {
      const { code, stderr } = await run(['--source', 'cuda']);

      expect(code).to.equal(2);
      expect(stderr).to.equal(
        'gpuwarden-agent sample: --source must be one of auto, nvml, nvidia-smi, got "cuda"\n',
      );
    });

    it('exits 2 when --from is combined with a source flag', async () => {
      const { code, stderr } = await run(['--from', 'x', '--nvml-lib', 'y']);

      expect(code).to.equal(2);
      expect(stderr).to.contain('cannot be combined with --nvml-lib');
    });

    it("exits 1 with a forced source's own reason as one line", async () => {
      const failure = {
        kind: 'library_missing',
        message: 'libnvidia-ml.so.1 not found: is the NVIDIA driver installed?',
        retryable: false,
      };

      const { code, stderr, stdout } = await run(
        ['--source', 'nvml'],
        deps(fakeSource(err(failure))),
      );

      expect(code).to.equal(1);
      expect(stdout).to.equal('');
      expect(stderr).to.equal(
        'gpuwarden-agent sample: libnvidia-ml.so.1 not found: is the NVIDIA driver installed?\n',
      );
    });

    it('exits 1 with one short line naming its flags when both sources fail', async () => {
      const failure = (kind: string) => ({
        kind,
        message: `${kind}: the long story`,
        retryable: false,
      });
      const source = (kind: SampleSource): GpuSource => ({
        kind,
        sample: async () =>
          err(failure(kind === 'nvml' ? 'library_missing' : 'smi_failed')),
        close: async () => undefined,
      });

      const { code, stderr } = await run(
        ['--nvml-lib', '/opt/nv/libnvidia-ml.so.1'],
        { ...deps(), createSource: source },
      );

      expect(code).to.equal(1);
      expect(stderr).to.equal(
        'gpuwarden-agent sample: no GPU source could be read (/opt/nv/libnvidia-ml.so.1 not loadable, nvidia-smi: failed (smi_failed)); check --nvml-lib and --nvidia-smi, or install the NVIDIA driver, or run npm run demo to see gpuwarden on a simulated GPU\n',
      );
    });

    it('exits 2 when --from is given twice, saying how to give both CSVs', async () => {
      const { code, stderr } = await run([
        '--from',
        'a.csv',
        '--from',
        'b.csv',
      ]);

      expect(code).to.equal(2);
      expect(stderr).to.equal(
        'gpuwarden-agent sample: --from given twice; give it once (put both CSVs in one file, see docs/nvidia-smi.md)\n',
      );
    });

    it('reads a saved CSV with --from and does not look into /proc', async () => {
      const file = path.join(tmp, 'saved.csv');
      writeFileSync(file, SAVED_CSV);

      const { code, stdout } = await run(['--from', file, '--json']);

      const snapshot = JSON.parse(stdout) as Snapshot;
      expect(code).to.equal(0);
      expect(snapshot.source).to.equal('nvidia-smi');
      expect(snapshot.gpus[0]?.processes).to.deep.equal([
        {
          pid: 41872,
          name: '/usr/bin/code-tunnel',
          type: 'compute',
          usedBytes: 3 * GIB,
          user: null,
          command: null,
          startedAt: null,
        },
      ]);
    });

    it('exits 1 with the classified message for a saved error output', async () => {
      const file = path.join(tmp, 'error.txt');
      writeFileSync(
        file,
        'Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 535.161\n',
      );

      const { code, stderr } = await run(['--from', file]);

      expect(code).to.equal(1);
      expect(stderr).to.match(
        /^gpuwarden-agent sample: .*version mismatch.*reboot/,
      );
    });

    it('exits 1 naming the path when the --from file is missing', async () => {
      const { code, stderr } = await run(['--from', path.join(tmp, 'nope')]);

      expect(code).to.equal(1);
      expect(stderr).to.contain('(ENOENT); check the --from path');
    });
  });

  describe('renderSampleTable()', () => {
    it('shows no processes and unknown memory as n/a, never as 0', () => {
      const sample = jasperSample();
      const gpu = sample.gpus[0]!;
      const snapshot: Snapshot = {
        node: 'jasper',
        takenAt: '2026-02-28T14:00:00.000Z',
        source: 'nvml',
        driverVersion: null,
        gpus: [
          {
            ...gpu,
            memory: {
              totalBytes: null,
              usedBytes: null,
              freeBytes: null,
              reservedBytes: null,
            },
            processes: [],
          },
        ],
        problems: [],
      };

      const text = renderSampleTable(snapshot);

      expect(text).to.contain('driver n/a');
      expect(text).to.contain('n/a / n/a');
      expect(text).to.contain('no processes on any GPU');
      expect(text).to.not.match(/\b0 B\b|\b0%/);
    });

    it('cuts long command lines to the width', () => {
      const sample = jasperSample();
      const snapshot: Snapshot = {
        node: 'jasper',
        takenAt: '2026-02-28T14:00:00.000Z',
        source: 'nvml',
        driverVersion: null,
        gpus: [
          {
            ...sample.gpus[0]!,
            processes: [
              {
                pid: 1,
                name: 'x',
                type: 'graphics',
                usedBytes: 1,
                user: 'root',
                command: 'y'.repeat(300),
                startedAt: null,
              },
            ],
          },
        ],
        problems: [],
      };

      const lines = renderSampleTable(snapshot, { widthColumns: 80 }).split(
        '\n',
      );

      expect(Math.max(...lines.slice(5).map((l) => l.length))).to.equal(80);
    });
  });

  describe('the real CLI', () => {
    const cli = path.join(repoRoot, 'bin/gpuwarden-agent.js');
    const fakeSmi = path.join(repoRoot, 'test/fakes/nvidia-smi/nvidia-smi');
    type CliRun = { code: number; stdout: string; stderr: string };
    const runs = new Map<string, Promise<CliRun>>();
    let child: ChildProcess;

    const spawnCli = (args: string[], env: Record<string, string> = {}) =>
      new Promise<CliRun>((resolve) => {
        execFile(
          process.execPath,
          [cli, 'sample', ...args],
          { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 20_000 },
          (error, stdout, stderr) =>
            resolve({
              code: error ? Number(error.code ?? 1) : 0,
              stdout,
              stderr,
            }),
        );
      });

    // Each run starts a Node process with tsx (about a second), so they
    // all start here at once and each test awaits its own.
    before(() => {
      child = spawn('sleep', ['30'], { stdio: 'ignore' });
      const state = jasperState();
      state.processes.push({
        gpu: 0,
        pid: child.pid ?? -1,
        type: 'compute',
        usedBytes: 3 * GIB,
        name: '/usr/bin/code-tunnel',
      });
      const stateFile = path.join(tmp, 'gpu-state');
      writeGpuState(stateFile, state);
      const env = { GPUWARDEN_FAKE_GPU_STATE: stateFile };
      const csv = path.join(tmp, 'cli.csv');
      writeFileSync(csv, SAVED_CSV);
      const missing = path.join(tmp, 'no-such');
      const lib = buildFakeNvml();

      runs.set('csv', spawnCli(['--from', csv]));
      runs.set('flag', spawnCli(['--frobnicate']));
      runs.set(
        'smi',
        spawnCli(
          ['--json', '--source', 'nvidia-smi', '--nvidia-smi', fakeSmi],
          env,
        ),
      );
      runs.set(
        'fallback',
        spawnCli(
          [
            '--json',
            '--nvml-lib',
            `${missing}/lib.so`,
            '--nvidia-smi',
            fakeSmi,
          ],
          env,
        ),
      );
      runs.set(
        'none',
        spawnCli(['--nvml-lib', `${missing}/lib.so`, '--nvidia-smi', missing]),
      );
      runs.set(
        'nvml',
        spawnCli(['--json', '--source', 'nvml', '--nvml-lib', lib], env),
      );
    });

    after(async () => {
      await Promise.all(runs.values());
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    });

    const result = (name: string): Promise<CliRun> =>
      runs.get(name) ?? Promise.reject(new Error(`no run ${name}`));

    const expectChildRow = (snapshot: Snapshot) => {
      expect(snapshot.gpus[0]?.processes[0]).to.include({
        pid: child.pid,
        name: 'sleep',
        command: 'sleep 30',
        user: os.userInfo().username,
        usedBytes: 3 * GIB,
        ppid: process.pid,
        resolved: true,
      });
    };

    it('reads a saved CSV end to end and exits 0', async () => {
      const { code, stdout } = await result('csv');

      expect(code).to.equal(0);
      expect(stdout).to.contain('PROCESSES');
      expect(stdout).to.contain('/usr/bin/code-tunnel');
    });

    it('exits 2 with one line for an unknown flag', async () => {
      const { code, stderr } = await result('flag');

      expect(code).to.equal(2);
      expect(stderr.trim().split('\n')).to.have.length(1);
      expect(stderr).to.contain('--frobnicate');
    });

    it('samples through the fake nvidia-smi and enriches from /proc', async () => {
      const { code, stdout } = await result('smi');

      const snapshot = JSON.parse(stdout) as Snapshot;
      expect(code).to.equal(0);
      expect(snapshot.source).to.equal('nvidia-smi');
      expect(snapshot.node).to.equal(os.hostname());
      expectChildRow(snapshot);
    });

    it('falls back to nvidia-smi when the NVML library is missing', async () => {
      const { code, stdout } = await result('fallback');

      const snapshot = JSON.parse(stdout) as Snapshot;
      expect(code).to.equal(0);
      expect(snapshot.source).to.equal('nvidia-smi');
      expect(snapshot.problems[0]?.kind).to.equal('source_fallback');
    });

    it('exits 1 saying no GPU could be read when neither source works', async () => {
      const { code, stdout, stderr } = await result('none');

      expect(code).to.equal(1);
      expect(stdout).to.equal('');
      expect(stderr).to.match(
        /^gpuwarden-agent sample: no NVIDIA GPU or driver found on this host \(\S+\/lib\.so not loadable, \S+\/no-such not found\); check --nvml-lib and --nvidia-smi, or install the NVIDIA driver, or run npm run demo to see gpuwarden on a simulated GPU\n$/,
      );
    });

    it('samples through the fake NVML library', async () => {
      const { code, stdout } = await result('nvml');

      const snapshot = JSON.parse(stdout) as Snapshot;
      expect(code).to.equal(0);
      expect(snapshot.source).to.equal('nvml');
      expectChildRow(snapshot);
    });
  });
});
