/**
 * One test (or a few) per bug-corpus entry about nvidia-smi output, named
 * for the behaviour gpuwarden keeps (see cases-bug-corpus.md).
 */
import { expect } from 'chai';
import { parseQueryGpuCsv } from '../../../agent/src/gpu/smi-csv.ts';
import { parseSavedSmiOutput } from '../../../agent/src/gpu/smi-saved.ts';
import { parseSmiXml } from '../../../agent/src/gpu/smi-xml.ts';
import { interpretRun } from '../../../agent/src/gpu/smi-source.ts';
import type { SourceSample } from '../../../agent/src/gpu/source.ts';
import { decodeSmiBytes } from '../../../agent/src/gpu/smi-values.ts';
import type { ExecResult } from '../../../shared/src/exec.ts';
import { smiFixture } from '../../fakes/nvidia-smi/fixture.ts';

const MIB = 2 ** 20;
const OPTIONS = { nvidiaSmiPath: 'nvidia-smi', timeoutMs: 5000 };

function xmlOf(name: string): string {
  return decodeSmiBytes(smiFixture(name));
}

function sampleOf(result: ReturnType<typeof parseSmiXml>): SourceSample {
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

function run(exitCode: number | null, stdout: string): ExecResult {
  return {
    exitCode,
    signal: null,
    timedOut: false,
    stdout: Buffer.from(stdout),
    stderr: '',
    spawnError: null,
    durationMs: 12,
  };
}

function processInfo(pid: number, gi: string, ci: string, name: string) {
  return [
    '<process_info>',
    `<gpu_instance_id>${gi}</gpu_instance_id>`,
    `<compute_instance_id>${ci}</compute_instance_id>`,
    `<pid>${pid}</pid><type>C</type>`,
    `<process_name>${name}</process_name>`,
    '<used_memory>7484 MiB</used_memory>',
    '</process_info>',
  ].join('\n');
}

describe('bug corpus: nvidia-smi output', () => {
  it('B01 keeps device memory when the process list is empty', () => {
    const xml = xmlOf('xml-tesla-t4-driver515-v11-procs-G-and-C.xml').replace(
      /<processes>[\s\S]*<\/processes>/,
      '<processes>\n</processes>',
    );

    const gpu = sampleOf(parseSmiXml(xml)).gpus[0];

    expect(gpu?.processes).to.deep.equal([]);
    expect(gpu?.memory.usedBytes).to.equal(1032 * MIB);
  });

  it('B02 keeps WDDM per-process memory unknown, never 0', () => {
    const csv = parseSavedSmiOutput(
      smiFixture('csv-compute-apps-win-rtx2080super-driver591-wddm-na.csv'),
    );
    const xml = sampleOf(
      parseSmiXml(
        xmlOf('xml-win-rtx2080-driver516-wddm-26procs-na-mem-empty-names.xml'),
      ),
    );

    const csvUsed = csv.ok
      ? csv.value.gpus[0]?.processes.map((p) => p.usedBytes)
      : [];
    expect(csvUsed).to.have.length(12);
    expect(new Set(csvUsed)).to.deep.equal(new Set([null]));
    expect(
      new Set(xml.gpus[0]?.processes.map((p) => p.usedBytes)),
    ).to.deep.equal(new Set([null]));
  });

  it('B03 takes the driver version from driver_version, not the banner', () => {
    const result = parseSavedSmiOutput(
      smiFixture(
        'snippet-table-wsl-smi470-vs-driver510-nvtop-124-truncated.txt',
      ),
    );
    const xml = sampleOf(
      parseSmiXml(xmlOf('xml-tesla-p100-driver510-v11.xml')),
    );

    expect(!result.ok && result.error.kind).to.equal('unsupported_format');
    expect(xml.driverVersion).to.equal('510.47.03');
  });

  it('B04 maps [Insufficient Permissions] memory to a no-permission null', () => {
    const sample = parseQueryGpuCsv(
      decodeSmiBytes(
        smiFixture(
          'csv-noheader-nounits-memory-free-a100-mig-in-container-insufficient-permissions-ollama-932.csv',
        ),
      ),
      { fields: ['memory.free'] },
    );

    expect(sample.ok && sample.value.gpus[0]?.memory.freeBytes).to.equal(null);
    expect(sample.ok && sample.value.problems.map((p) => p.kind)).to.include(
      'field_no_permission',
    );
  });

  it('B05 puts a MIG process on its MIG device by GI/CI, not the parent', () => {
    const xml = xmlOf(
      'xml-a100-sxm4-40gb-driver510-v11-mig-2instances.xml',
    ).replace(
      /<processes>\s*<\/processes>/,
      `<processes>\n${processInfo(21198, '2', '0', './gpu_burn')}\n${processInfo(7, 'N/A', 'N/A', 'x')}\n</processes>`,
    );

    const [parent, gi1, gi2] = sampleOf(parseSmiXml(xml)).gpus;

    expect(gi2?.processes.map((p) => [p.pid, p.usedBytes])).to.deep.equal([
      [21198, 7484 * MIB],
    ]);
    expect(gi1?.processes).to.deep.equal([]);
    expect(parent?.processes.map((p) => p.pid)).to.deep.equal([7]);
  });

  it('B05 says the MIG slice of compute-apps rows is unknown', () => {
    const bytes = Buffer.concat([
      smiFixture('csv-query-gpu-full-h100-mig-driver590.csv'),
      smiFixture('csv-compute-apps-h100-mig-driver590-parent-gpu-uuid.csv'),
    ]);

    const result = parseSavedSmiOutput(bytes);

    expect(result.ok && result.value.problems.map((p) => p.kind)).to.include(
      'mig_slice_unknown',
    );
  });

  it('B06 turns a killed, timed-out run into a retryable timeout', () => {
    const result = interpretRun(
      { ...run(null, ''), signal: 'SIGKILL', timedOut: true },
      OPTIONS,
    );

    expect(!result.ok && result.error).to.include({
      kind: 'timeout',
      retryable: true,
    });
  });

  it('B08 reports a driver/library mismatch instead of silence', () => {
    const text = decodeSmiBytes(
      smiFixture('err-driver-library-version-mismatch-exit18-gputil-55.txt'),
    );

    const result = interpretRun(run(18, text), OPTIONS);

    expect(!result.ok && result.error).to.include({
      kind: 'driver_mismatch',
      retryable: true,
    });
  });

  it('B09 marks driver-not-loaded as retryable so sampling goes on', () => {
    const text = decodeSmiBytes(
      smiFixture(
        'err-cannot-communicate-with-driver-exit9-nvidia-gpu-exporter-65.txt',
      ),
    );

    const result = interpretRun(run(9, text), OPTIONS);

    expect(!result.ok && result.error).to.include({
      kind: 'driver_not_loaded',
      retryable: true,
    });
  });

  it('B10 keeps the sample when one cell is [Not Supported]', () => {
    const sample = parseQueryGpuCsv(
      decodeSmiBytes(
        smiFixture(
          'csv-noheader-nounits-query-gpu-3x-gtx-titanx-notsupported-MOCK.csv',
        ),
      ),
      {
        fields: [
          'index',
          'uuid',
          'name',
          'temperature.gpu',
          'utilization.gpu',
          'memory.used',
          'memory.total',
        ],
      },
    );

    expect(sample.ok && sample.value.gpus).to.have.length(3);
    expect(sample.ok && sample.value.gpus[2]?.temperatureC).to.equal(71);
    expect(sample.ok && sample.value.gpus[2]?.utilizationPercent.gpu).to.equal(
      null,
    );
  });

  it('B11 reads every spelling of "unavailable" the same way', () => {
    const fields = [
      'memory.total',
      'memory.free',
      'memory.used',
      'temperature.gpu',
      'fan.speed',
      'utilization.gpu',
      'utilization.memory',
    ];
    const older = parseQueryGpuCsv(
      decodeSmiBytes(
        smiFixture(
          'csv-noheader-nounits-query-gpu-fan-notsupported-older-driver-i3pystatus-776.csv',
        ),
      ),
      { fields },
    );
    const newer = parseQueryGpuCsv(
      decodeSmiBytes(
        smiFixture(
          'csv-noheader-nounits-query-gpu-fan-na-newer-driver-i3pystatus-776.csv',
        ),
      ),
      { fields },
    );
    const odd = parseQueryGpuCsv(
      'power.draw [W], uuid\n[Unknown Error], GPU-x\n',
    );

    expect(older.ok && older.value.gpus).to.deep.equal(
      newer.ok && newer.value.gpus,
    );
    expect(older.ok && older.value.gpus[0]?.memory.totalBytes).to.equal(
      2004 * MIB,
    );
    expect(older.ok && older.value.gpus[0]?.temperatureC).to.equal(44);
    expect(odd.ok && odd.value.gpus[0]?.powerWatts).to.equal(null);
    expect(odd.ok && odd.value.problems.map((p) => p.kind)).to.include(
      'field_error',
    );
  });

  it('B12 reads padded XML values and bare N/A without leaking text', () => {
    const gpu = sampleOf(
      parseSmiXml(xmlOf('xml-rtx-pro6000-driver580-trimmed-padded-values.xml')),
    ).gpus[0];
    const old = sampleOf(
      parseSmiXml(xmlOf('xml-gt730-driver384-v9-utilization-na-trimmed.xml')),
    ).gpus[0];

    expect(gpu?.temperatureC).to.equal(37);
    expect(gpu?.powerWatts).to.equal(66.84);
    expect(old?.utilizationPercent).to.deep.equal({ gpu: null, memory: null });
  });

  it('B14 decodes a name that is not valid UTF-8 without failing', () => {
    const xml = Buffer.concat([
      Buffer.from(
        '<nvidia_smi_log><gpu id="0"><uuid>GPU-1</uuid><product_name>',
      ),
      Buffer.from([0xf8, 0x41]),
      Buffer.from('</product_name></gpu></nvidia_smi_log>'),
    ]);

    const result = parseSavedSmiOutput(xml);

    expect(result.ok && result.value.gpus[0]?.name).to.equal('\uFFFDA');
  });

  it('B16 reports used and reserved memory apart', () => {
    const gpu = sampleOf(parseSmiXml(xmlOf('xml-tesla-p100-driver510-v11.xml')))
      .gpus[0];

    expect(gpu?.memory.usedBytes).to.equal(0);
    expect(gpu?.memory.reservedBytes).to.equal(103 * MIB);
  });

  it('B17 keeps the memory of a process whose name is "Unknown Error"', () => {
    const xml = xmlOf('xml-tesla-t4-driver515-v11-procs-G-and-C.xml').replace(
      '<process_name>python</process_name>',
      '<process_name>Unknown Error</process_name>',
    );

    const gpu = sampleOf(parseSmiXml(xml)).gpus[0];

    expect(gpu?.processes[1]).to.deep.equal({
      pid: 5762,
      type: 'compute',
      usedBytes: 1005 * MIB,
      name: null,
    });
  });

  it('B20 reads one record per GPU line and checks the count', () => {
    const two = parseQueryGpuCsv('16384, 5\n16384, 5\n', {
      fields: ['memory.total', 'memory.used'],
    });
    const short = parseQueryGpuCsv('count, memory.total\n2, 16384\n');

    expect(
      two.ok && two.value.gpus.map((g) => g.memory.usedBytes),
    ).to.deep.equal([5 * MIB, 5 * MIB]);
    expect(!short.ok && short.error.kind).to.equal('bad_output');
  });

  it('B22 finds power in v11, v12 and 570+ layouts', () => {
    const power = (name: string) =>
      sampleOf(parseSmiXml(xmlOf(name))).gpus[0]?.powerWatts;

    expect(power('xml-tesla-p100-driver510-v11.xml')).to.equal(26.16);
    expect(power('xml-rtx4090-driver535-v12-noprocs.xml')).to.equal(26.84);
    expect(power('xml-rtx3090-driver590-v13.xml')).to.equal(35.15);
  });

  it('B23 converts MiB with 1048576, not 1000000', () => {
    const sample = parseSavedSmiOutput(
      smiFixture('csv-query-gpu-full-h100-mig-driver590.csv'),
    );

    expect(sample.ok && sample.value.gpus[0]?.memory.totalBytes).to.equal(
      85_520_809_984,
    );
  });

  it('B25 never parses an error printed on stdout as data', () => {
    const text = decodeSmiBytes(
      smiFixture(
        'err-no-supported-gpus-exit255-dra-driver-nvidia-gpu-1008.txt',
      ),
    );

    const failed = interpretRun(run(255, text), OPTIONS);
    const clean = interpretRun(run(0, 'No devices were found\n'), OPTIONS);

    expect(!failed.ok && failed.error.kind).to.equal('no_devices');
    expect(!clean.ok && clean.error.kind).to.equal('no_devices');
  });
});
