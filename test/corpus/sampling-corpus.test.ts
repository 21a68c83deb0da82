/**
 * Bug-corpus entries (cases-bug-corpus.md) about sampling that the tests
 * next to the parsers did not pin with the entry's own input: each test
 * names its entry. Inputs: test/fixtures/corpus/README.md.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseComputeAppsCsv,
  parseQueryGpuCsv,
} from '../../agent/src/gpu/smi-csv.ts';
import { parseSmiXml } from '../../agent/src/gpu/smi-xml.ts';
import {
  createSmiSource,
  interpretRun,
} from '../../agent/src/gpu/smi-source.ts';
import { decodeSmiBytes } from '../../agent/src/gpu/smi-values.ts';
import { createSystemClock } from '../../shared/src/clock.ts';
import { createExec } from '../../shared/src/exec.ts';
import type { Exec, ExecResult } from '../../shared/src/exec.ts';
import { createSilentLogger } from '../../shared/src/logger.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { smiFixtureText } from '../fakes/nvidia-smi/fixture.ts';
import { isProcessAlive } from '../fakes/gpu-state.ts';

const MIB = 2 ** 20;
const CORPUS = new URL('../fixtures/corpus/', import.meta.url);

function corpusText(name: string): string {
  return decodeSmiBytes(readFileSync(new URL(name, CORPUS)));
}

function result(exitCode: number | null, stdout: string): ExecResult {
  return {
    exitCode,
    signal: null,
    timedOut: false,
    stdout: Buffer.from(stdout),
    stderr: '',
    spawnError: null,
    durationMs: 1,
  };
}

const TIMED_OUT: ExecResult = {
  ...result(null, ''),
  signal: 'SIGKILL',
  timedOut: true,
};

describe('bug corpus: sampling', () => {
  it('B10 keeps every row with a numeric pid and counts the [Not Supported] one', () => {
    const apps = parseComputeAppsCsv(
      corpusText('b10-compute-apps-pid-not-supported.csv'),
    );

    if (!apps.ok) throw new Error(apps.error.message);
    expect(
      apps.value.rows.map((r) => [r.process.pid, r.process.usedBytes]),
    ).to.deep.equal([
      [48448, 4000 * MIB],
      [153223, 4000 * MIB],
      [192453, 3000 * MIB],
      [194826, 6000 * MIB],
      [38310, 4245 * MIB],
    ]);
    expect(apps.value.gpuUuids).to.have.length(3);
    expect(apps.value.problems).to.deep.equal([
      {
        gpuUuid: 'GPU-2aca1595-4178-e95d-5c73-1119550b5b09',
        kind: 'process_unattributed',
        message:
          '1 process row(s) on this GPU have no usable pid (pid "[Not Supported]") and are left out',
      },
    ]);
  });

  it('B11 reads every spelling of "unavailable" as null with its own kind', () => {
    const sample = parseQueryGpuCsv(
      corpusText('b11-query-gpu-every-unavailable-spelling.csv'),
    );

    if (!sample.ok) throw new Error(sample.error.message);
    const gpu = sample.value.gpus[0];
    expect(gpu?.memory).to.deep.equal({
      totalBytes: null,
      usedBytes: null,
      freeBytes: null,
      reservedBytes: null,
    });
    expect(gpu?.utilizationPercent).to.deep.equal({ gpu: null, memory: null });
    expect([gpu?.temperatureC, gpu?.powerWatts]).to.deep.equal([null, null]);
    const kinds = Object.fromEntries(
      sample.value.problems.map((p) => [p.message.split(' ')[0], p.kind]),
    );
    expect(kinds).to.include({
      'memory.total': 'field_deprecated',
      'memory.used': 'field_unavailable',
      'memory.free': 'field_unavailable',
      'memory.reserved': 'field_no_permission',
      'utilization.gpu': 'field_malformed',
      'utilization.memory': 'field_unsupported',
      'temperature.gpu': 'field_unavailable',
      'power.draw': 'field_error',
    });
    const unknown = sample.value.problems.find((p) =>
      p.message.startsWith('utilization.gpu'),
    );
    expect(unknown?.message).to.contain('"[Some Future Status]"');
  });

  it('B12 trims padded XML values, maps padded N/A to null and refuses a wrong unit', () => {
    const xml = smiFixtureText('xml-tesla-p100-driver510-v11.xml')
      .replace('<gpu_util>0 %</gpu_util>', '<gpu_util> 40 % </gpu_util>')
      .replace(
        '<power_draw>26.16 W</power_draw>',
        '<power_draw> N/A </power_draw>',
      )
      .replace('<gpu_temp>38 C</gpu_temp>', '<gpu_temp>38 W</gpu_temp>');

    const sample = parseSmiXml(xml);

    if (!sample.ok) throw new Error(sample.error.message);
    const gpu = sample.value.gpus[0];
    expect(gpu?.utilizationPercent.gpu).to.equal(40);
    expect(gpu?.powerWatts).to.equal(null);
    expect(gpu?.temperatureC).to.equal(null);
    expect(sample.value.problems.map((p) => p.kind)).to.deep.equal([
      'field_malformed',
      'field_unavailable',
    ]);
  });

  it('B22 reads an XML whose DTD version it has never seen', () => {
    const xml = smiFixtureText('xml-tesla-p100-driver510-v11.xml').replace(
      'nvsmi_device_v11.dtd',
      'nvsmi_device_v14.dtd',
    );

    const sample = parseSmiXml(xml);

    if (!sample.ok) throw new Error(sample.error.message);
    expect(sample.value.driverVersion).to.equal('510.47.03');
    expect(sample.value.gpus[0]?.memory).to.deep.equal({
      totalBytes: 16384 * MIB,
      usedBytes: 0,
      freeBytes: 16280 * MIB,
      reservedBytes: 103 * MIB,
    });
  });

  it('B23 gives the same bytes as the -q text of the same capture', () => {
    const csv = parseQueryGpuCsv(
      smiFixtureText('csv-query-gpu-full-win-rtx2080super-driver591-wddm.csv'),
    );
    const qText = smiFixtureText('q-text-win-rtx2080super-driver591-wddm.txt');
    const qMib = (label: string) =>
      Number(new RegExp(`^\\s+${label}\\s+: (\\d+) MiB`, 'm').exec(qText)?.[1]);

    if (!csv.ok) throw new Error(csv.error.message);
    expect(csv.value.gpus[0]?.memory).to.deep.equal({
      totalBytes: qMib('Total') * MIB,
      reservedBytes: qMib('Reserved') * MIB,
      usedBytes: qMib('Used') * MIB,
      freeBytes: qMib('Free') * MIB,
    });
    expect(csv.value.gpus[0]?.memory.totalBytes).to.equal(8_589_934_592);
  });

  it('B25 refuses a clean exit whose output is not nvidia-smi XML', () => {
    const options = { nvidiaSmiPath: 'nvidia-smi', timeoutMs: 5000 };

    const text = interpretRun(result(0, 'hello world\n'), options);
    const cut = interpretRun(
      result(0, '<?xml version="1.0" ?>\n<nvidia_smi_log>\n<gpu id="0">'),
      options,
    );

    expect(!text.ok && text.error.kind).to.equal('bad_output');
    expect(!cut.ok && cut.error.message).to.contain('cut off');
  });

  describe('B06 nvidia-smi that hangs', () => {
    let tmp: string;

    before(() => {
      tmp = mkdtempSync(join(tmpdir(), 'gpuwarden-corpus-'));
    });

    after(() => {
      rmSync(tmp, { recursive: true, force: true });
    });

    it('B06 backs off after repeated timeouts instead of starting a run every sample', async () => {
      const clock = new FakeClock();
      let runs = 0;
      const exec: Exec = () => {
        runs += 1;
        return Promise.resolve(TIMED_OUT);
      };
      const source = createSmiSource(
        { nvidiaSmiPath: 'nvidia-smi', timeoutMs: 5000 },
        { exec, clock, logger: createSilentLogger() },
      );
      const runsAfter = async (waitMs: number) => {
        await clock.advance(waitMs);
        const sampled = await source.sample();
        expect(!sampled.ok && sampled.error).to.include({
          kind: 'timeout',
          retryable: true,
        });
        return runs;
      };

      const counts = [
        await runsAfter(0),
        await runsAfter(2000),
        await runsAfter(2000),
        await runsAfter(3000),
        await runsAfter(5000),
        await runsAfter(5000),
      ];

      // Runs 1 and 2 time out; then 5 s of rest, a run, 10 s of rest.
      expect(counts).to.deep.equal([1, 2, 2, 3, 3, 4]);
    });

    it('B06 starts at full rate again once a run answers', async () => {
      const clock = new FakeClock();
      const answers = [
        TIMED_OUT,
        TIMED_OUT,
        result(
          9,
          "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
        ),
        TIMED_OUT,
        TIMED_OUT,
      ];
      let runs = 0;
      const exec: Exec = () => {
        runs += 1;
        return Promise.resolve(answers.shift() ?? TIMED_OUT);
      };
      const source = createSmiSource(
        { nvidiaSmiPath: 'nvidia-smi', timeoutMs: 5000 },
        { exec, clock, logger: createSilentLogger() },
      );

      await source.sample();
      await source.sample();
      await clock.advance(5000);
      const answered = await source.sample();
      await source.sample();
      const afterOne = await source.sample();

      expect(!answered.ok && answered.error.kind).to.equal('driver_not_loaded');
      expect(!afterOne.ok && afterOne.error.kind).to.equal('timeout');
      expect(runs).to.equal(5);
    });

    it('B06 kills a run that printed its banner and then blocked, children included', async function () {
      this.timeout(10_000);
      const childPidFile = join(tmp, 'child.pid');
      const script = join(tmp, 'nvidia-smi');
      writeFileSync(
        script,
        [
          '#!/bin/sh',
          'echo \'<?xml version="1.0" ?>\'',
          'echo "<nvidia_smi_log>"',
          'sleep 600 &',
          `echo $! > ${childPidFile}`,
          'wait',
          '',
        ].join('\n'),
        { mode: 0o755 },
      );
      const source = createSmiSource(
        { nvidiaSmiPath: script, timeoutMs: 400 },
        {
          exec: createExec(),
          clock: createSystemClock(),
          logger: createSilentLogger(),
        },
      );

      const sampled = await source.sample();

      expect(!sampled.ok && sampled.error.kind).to.equal('timeout');
      expect(existsSync(childPidFile)).to.equal(true);
      const childPid = Number(readFileSync(childPidFile, 'utf8').trim());
      expect(await goneWithin(childPid, 1000)).to.equal(true);
    });
  });
});

/** Polls until the pid is gone or a zombie (reaped a moment later). */
async function goneWithin(pid: number, limitMs: number): Promise<boolean> {
  for (let waitedMs = 0; waitedMs <= limitMs; waitedMs += 25) {
    if (!isProcessAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}
