/**
 * Bug-corpus entries (cases-bug-corpus.md) run end to end through the
 * real `gpuwarden-agent sample` command: saved outputs with `--from`, and
 * the fake nvidia-smi and fake NVML for the live cases. Each run starts
 * Node with tsx (about a second), so all start at once in `before`.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Snapshot } from '../../shared/src/snapshot.ts';
import { buildFakeNvml } from '../fakes/build-fake-nvml.ts';
import { jasperState, writeGpuState } from '../fakes/gpu-state.ts';
import { FAKE_SMI_PATH, smiFixture } from '../fakes/nvidia-smi/fixture.ts';

const MIB = 2 ** 20;
const GIB = 2 ** 30;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'bin/gpuwarden-agent.js');
const CORPUS = join(ROOT, 'test/fixtures/corpus');
const SMI = join(ROOT, 'test/fixtures/nvidia-smi');

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function sample(args: string[], env: Record<string, string> = {}) {
  return new Promise<CliRun>((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'sample', '--json', ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Inputs made from the shared fixtures, as the corpus entries describe. */
function writeDerivedInputs(tmp: string): Record<string, string> {
  const t4 = smiFixture('xml-tesla-t4-driver515-v11-procs-G-and-C.xml');
  const nameAt = t4.indexOf('<product_name>') + '<product_name>'.length;
  const b14 = join(tmp, 'b14-name-not-utf8.xml');
  writeFileSync(
    b14,
    Buffer.concat([
      t4.subarray(0, nameAt),
      Buffer.from([0xf8]),
      t4.subarray(nameAt),
    ]),
  );

  const b01 = jasperState();
  b01.processes.push({
    gpu: 0,
    pid: 4_000_001,
    type: 'compute',
    usedBytes: 1_061_158_912,
    name: 'python',
    hostPid: true,
  });
  writeGpuState(join(tmp, 'b01.state'), b01);
  const b15 = jasperState();
  for (const pid of [4_000_003, 4_000_004]) {
    b15.processes.push({
      gpu: 0,
      pid,
      type: 'compute',
      usedBytes: GIB,
      name: 'p',
      hostPid: true,
    });
  }
  b15.trap.stride = 48;
  writeGpuState(join(tmp, 'b15.state'), b15);
  return { b14, b01: join(tmp, 'b01.state'), b15: join(tmp, 'b15.state') };
}

describe('bug corpus: gpuwarden-agent sample end to end', function () {
  this.timeout(40_000);
  const runs = new Map<string, Promise<CliRun>>();
  let tmp: string;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'gpuwarden-corpus-cli-'));
    const input = writeDerivedInputs(tmp);
    const from = (dir: string, name: string) =>
      sample(['--from', join(dir, name)]);
    const lib = buildFakeNvml();

    runs.set(
      'B02',
      from(SMI, 'csv-compute-apps-win-rtx2080super-driver591-wddm-na.csv'),
    );
    runs.set(
      'B08',
      from(SMI, 'err-driver-library-version-mismatch-exit18-gputil-55.txt'),
    );
    runs.set('B10', from(CORPUS, 'b10-compute-apps-pid-not-supported.csv'));
    runs.set('B14', sample(['--from', input.b14 ?? '']));
    runs.set(
      'B25',
      from(SMI, 'err-no-supported-gpus-exit255-dra-driver-nvidia-gpu-1008.txt'),
    );
    runs.set(
      'B01',
      sample(['--source', 'nvidia-smi', '--nvidia-smi', FAKE_SMI_PATH], {
        GPUWARDEN_FAKE_GPU_STATE: input.b01 ?? '',
      }),
    );
    runs.set(
      'B15',
      sample(['--nvml-lib', lib, '--nvidia-smi', FAKE_SMI_PATH], {
        GPUWARDEN_FAKE_GPU_STATE: input.b15 ?? '',
      }),
    );
  });

  after(async () => {
    await Promise.all(runs.values());
    rmSync(tmp, { recursive: true, force: true });
  });

  const snapshotOf = async (id: string): Promise<Snapshot> => {
    const run = await (runs.get(id) ?? Promise.reject(new Error(id)));
    expect(run.code, run.stderr).to.equal(0);
    return JSON.parse(run.stdout) as Snapshot;
  };

  const failureOf = async (id: string): Promise<CliRun> => {
    const run = await (runs.get(id) ?? Promise.reject(new Error(id)));
    expect(run.code).to.equal(1);
    expect(run.stdout).to.equal('');
    expect(run.stderr.trim().split('\n')).to.have.length(1);
    return run;
  };

  it('B01 keeps the memory of a pid this namespace cannot see and says why', async () => {
    const snapshot = await snapshotOf('B01');

    expect(snapshot.gpus[0]?.processes[0]).to.include({
      pid: 4_000_001,
      usedBytes: 1_061_158_912,
      resolved: false,
    });
    expect(snapshot.problems.map((p) => p.kind)).to.include('pid_unresolved');
  });

  it('B02 prints WDDM per-process memory as null, never 0, and flags it', async () => {
    const snapshot = await snapshotOf('B02');

    const used = snapshot.gpus[0]?.processes.map((p) => p.usedBytes);
    expect(used).to.have.length(12);
    expect(new Set(used)).to.deep.equal(new Set([null]));
    expect(snapshot.problems.map((p) => p.kind)).to.include(
      'process_memory_unknown',
    );
  });

  it('B08 exits 1 with one line naming the driver mismatch and its fix', async () => {
    const { stderr } = await failureOf('B08');

    expect(stderr).to.contain('Driver/library version mismatch');
    expect(stderr).to.contain('reboot or reload');
  });

  it('B10 prints the five numeric-pid rows and counts the [Not Supported] row', async () => {
    const snapshot = await snapshotOf('B10');

    expect(
      snapshot.gpus.map((g) => g.processes.map((p) => p.pid)),
    ).to.deep.equal([[48448, 153223], [192453, 194826], [38310]]);
    expect(snapshot.gpus[2]?.processes[0]?.usedBytes).to.equal(4245 * MIB);
    expect(
      snapshot.problems.filter((p) => p.kind === 'process_unattributed'),
    ).to.have.length(1);
  });

  it('B14 prints a name with bytes that are not UTF-8 and keeps sampling', async () => {
    const snapshot = await snapshotOf('B14');

    expect(snapshot.gpus[0]?.name).to.equal('\uFFFDTesla T4');
    expect(snapshot.gpus[0]?.processes).to.have.length(2);
  });

  it('B15 falls back to nvidia-smi on an unknown NVML process layout and says so', async () => {
    const snapshot = await snapshotOf('B15');

    expect(snapshot.source).to.equal('nvidia-smi');
    expect(snapshot.problems[0]?.kind).to.equal('source_fallback');
    expect(snapshot.problems[0]?.message).to.contain('ABI mismatch');
    expect(
      snapshot.gpus[0]?.processes.map((p) => [p.pid, p.usedBytes]),
    ).to.deep.equal([
      [4_000_003, GIB],
      [4_000_004, GIB],
    ]);
  });

  it('B25 exits 1 on a saved "No supported GPUs" error and prints no data', async () => {
    const { stderr } = await failureOf('B25');

    expect(stderr).to.contain('No supported GPUs were found');
  });
});
