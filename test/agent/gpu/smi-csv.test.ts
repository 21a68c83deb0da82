import { expect } from 'chai';
import {
  parseComputeAppsCsv,
  parseQueryGpuCsv,
} from '../../../agent/src/gpu/smi-csv.ts';
import type { ComputeApps } from '../../../agent/src/gpu/smi-csv.ts';
import type { SourceSample } from '../../../agent/src/gpu/source.ts';
import { decodeSmiBytes } from '../../../agent/src/gpu/smi-values.ts';
import { smiFixture } from '../../fakes/nvidia-smi/fixture.ts';

const MIB = 2 ** 20;

function text(name: string): string {
  return decodeSmiBytes(smiFixture(name));
}

function gpusOf(csv: string, fields?: string[]): SourceSample {
  const result = parseQueryGpuCsv(csv, fields ? { fields } : {});
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

function appsOf(csv: string, fields?: string[]): ComputeApps {
  const result = parseComputeAppsCsv(csv, fields ? { fields } : {});
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

describe('parseQueryGpuCsv()', () => {
  it('reads the full H100 MIG capture by header names', () => {
    const sample = gpusOf(text('csv-query-gpu-full-h100-mig-driver590.csv'));
    const gpu = sample.gpus[0];

    expect(sample.driverVersion).to.equal('590.48.01');
    expect(sample.gpus).to.have.length(1);
    expect(gpu).to.deep.include({
      index: 0,
      uuid: 'GPU-7dafebd9-a509-3a38-2a61-494752e80f3e',
      name: 'NVIDIA H100 80GB HBM3',
      pciBusId: '00000000:00:09.0',
      temperatureC: 53,
      powerWatts: 433.78,
      migEnabled: true,
    });
    expect(gpu?.memory).to.deep.equal({
      totalBytes: 81559 * MIB,
      usedBytes: 11125 * MIB,
      freeBytes: 69956 * MIB,
      reservedBytes: 479 * MIB,
    });
    expect(gpu?.utilizationPercent).to.deep.equal({ gpu: null, memory: null });
  });

  it('reads the driver 610 capture with its kmd_version column', () => {
    const gpu = gpusOf(text('csv-query-gpu-full-rtx2080super-driver610.csv'))
      .gpus[0];

    expect(gpu?.uuid).to.equal('GPU-d4e53ead-d9d0-94b0-76e3-4ac30dfa8a8b');
    expect(gpu?.memory.usedBytes).to.equal(815 * MIB);
    expect(gpu?.utilizationPercent).to.deep.equal({ gpu: 8, memory: 3 });
    expect(gpu?.powerWatts).to.equal(98.14);
    expect(gpu?.migEnabled).to.equal(false);
  });

  it('reads the Windows WDDM capture', () => {
    const gpu = gpusOf(
      text('csv-query-gpu-full-win-rtx2080super-driver591-wddm.csv'),
    ).gpus[0];

    expect(gpu?.uuid).to.equal('GPU-8990baa5-72e6-d429-01c4-33f8a6dcf09e');
    expect(gpu?.memory.usedBytes).to.equal(1296 * MIB);
    expect(gpu?.memory.reservedBytes).to.equal(205 * MIB);
  });

  it('reads nounits values with the unit from the header', () => {
    const sample = gpusOf(
      text('csv-query-gpu-nounits-with-header-tesla-p100-driver510.csv'),
    );
    const gpu = sample.gpus[0];

    expect(gpu?.uuid).to.equal('GPU-e9e7efdf-381d-1ebb-8ec8-f06b08bd7dbd');
    expect(gpu?.memory).to.deep.equal({
      totalBytes: null,
      usedBytes: 0,
      freeBytes: 16280 * MIB,
      reservedBytes: 103 * MIB,
    });
    expect(gpu?.powerWatts).to.equal(28.16);
    expect(sample.problems).to.deep.include({
      gpuUuid: gpu?.uuid,
      kind: 'field_missing',
      message: 'memory.total is not in this nvidia-smi output',
    });
  });

  it('keeps an all-[N/A] GB10 as nulls under a stand-in UUID', () => {
    const sample = gpusOf(
      text('csv-with-header-gb10-memory-all-na-unsloth-10283.csv'),
    );

    expect(sample.gpus[0]?.uuid).to.equal('unknown-gpu-0');
    expect(sample.gpus[0]?.memory.totalBytes).to.equal(null);
    expect(sample.problems.map((p) => p.kind)).to.include.members([
      'uuid_missing',
      'field_unavailable',
    ]);
  });

  it('reads noheader nounits output with the queried fields', () => {
    const fields = [
      'index',
      'uuid',
      'name',
      'temperature.gpu',
      'utilization.gpu',
      'memory.used',
      'memory.total',
    ];
    const sample = gpusOf(
      text(
        'csv-noheader-nounits-query-gpu-3x-gtx-titanx-notsupported-MOCK.csv',
      ),
      fields,
    );

    expect(sample.gpus.map((g) => g.uuid)).to.deep.equal([
      'GPU-63315cb0-2c21-0be0-7769-e4189b18cfe2',
      'GPU-302a6005-c4cd-16e0-1de4-a5ca0cf1f6a0',
      'GPU-2aca1595-4178-e95d-5c73-1119550b5b09',
    ]);
    expect(sample.gpus.map((g) => g.utilizationPercent.gpu)).to.deep.equal([
      76,
      0,
      null,
    ]);
    expect(sample.gpus[2]?.memory.usedBytes).to.equal(8520 * MIB);
    expect(sample.gpus[2]?.memory.totalBytes).to.equal(12287 * MIB);
  });

  it('reads one record per line on multi-GPU output', () => {
    const sample = gpusOf(
      text(
        'csv-noheader-nounits-memory-2x-quadro-rtx5000-wddm-na-yolox-1429.csv',
      ),
      ['memory.total', 'memory.used'],
    );

    expect(sample.gpus).to.have.length(2);
    expect(sample.gpus.map((g) => g.memory.totalBytes)).to.deep.equal([
      null,
      null,
    ]);
  });

  it('fails when rows disagree with the count column', () => {
    const csv = 'count, uuid\n2, GPU-a\n';

    const result = parseQueryGpuCsv(csv);

    expect(!result.ok && result.error.kind).to.equal('bad_output');
  });

  it('refuses output without header when no fields are given', () => {
    const result = parseQueryGpuCsv('0, GPU-a, 12\n');

    expect(!result.ok && result.error.kind).to.equal('csv_without_header');
  });

  it('refuses compute-apps CSV', () => {
    const result = parseQueryGpuCsv(
      text('csv-compute-apps-h100-driver590.csv'),
    );

    expect(!result.ok && result.error.kind).to.equal('wrong_format');
  });
});

describe('parseComputeAppsCsv()', () => {
  it('reads pids, names and MiB of the H100 capture', () => {
    const apps = appsOf(text('csv-compute-apps-h100-driver590.csv'));

    expect(apps.gpuUuids).to.deep.equal([
      'GPU-db2567ac-5f28-8582-c76b-2368dcce0632',
    ]);
    expect(apps.rows.map((r) => r.process)).to.deep.equal([
      {
        pid: 11327,
        type: 'compute',
        usedBytes: 2566 * MIB,
        name: '/root/tools/memhog',
      },
      {
        pid: 11328,
        type: 'compute',
        usedBytes: 1542 * MIB,
        name: '/root/tools/memhog',
      },
      {
        pid: 11345,
        type: 'compute',
        usedBytes: 15690 * MIB,
        name: './gpu_burn',
      },
    ]);
    expect(apps.rows[0]?.gpuName).to.equal('NVIDIA H100 80GB HBM3');
  });

  it('keeps unsorted rows in their order', () => {
    const apps = appsOf(text('csv-compute-apps-rtx2080super-driver610.csv'));

    expect(apps.rows.map((r) => r.process.pid)).to.deep.equal([28512, 28511]);
    expect(apps.rows.map((r) => r.process.usedBytes)).to.deep.equal([
      370 * MIB,
      230 * MIB,
    ]);
  });

  it('reads the compute-only rows of the driver 595 capture', () => {
    const apps = appsOf(
      text('csv-compute-apps-rtx2080super-driver595-compute-only.csv'),
    );

    expect(apps.rows.map((r) => [r.process.pid, r.process.name])).to.deep.equal(
      [
        [5268, 'ffmpeg'],
        [5267, 'ffmpeg'],
      ],
    );
  });

  it('reads a header-only output as no processes', () => {
    const apps = appsOf(
      text('csv-compute-apps-h100-mig-driver590-idle-header-only.csv'),
    );

    expect(apps.rows).to.deep.equal([]);
  });

  it('attributes MIG rows to the parent UUID the CSV names', () => {
    const apps = appsOf(
      text('csv-compute-apps-h100-mig-driver590-parent-gpu-uuid.csv'),
    );

    expect(apps.gpuUuids).to.deep.equal([
      'GPU-7dafebd9-a509-3a38-2a61-494752e80f3e',
    ]);
    expect(apps.rows.map((r) => r.process.pid)).to.deep.equal([
      21180, 21181, 21198,
    ]);
  });

  it('keeps WDDM [N/A] memory as null with one problem, paths whole', () => {
    const apps = appsOf(
      text('csv-compute-apps-win-rtx2080super-driver591-wddm-na.csv'),
    );

    expect(apps.rows).to.have.length(12);
    expect(apps.rows.every((r) => r.process.usedBytes === null)).to.equal(true);
    expect(apps.rows.map((r) => r.process.name)).to.include(
      'C:\\Program Files\\NZXT CAM\\NZXT CAM.exe',
    );
    expect(
      apps.problems.filter((p) => p.kind === 'process_memory_unknown'),
    ).to.have.length(1);
  });

  it('leaves out [Not Supported] pids and counts them', () => {
    const apps = appsOf(
      text(
        'csv-noheader-nounits-compute-apps-3x-gtx-titanx-notsupported-MOCK.csv',
      ),
      ['gpu_uuid', 'pid', 'used_memory'],
    );

    expect(apps.rows.map((r) => r.process.pid)).to.deep.equal([
      48448, 153223, 192453, 194826, 38310,
    ]);
    expect(apps.rows[4]?.process.usedBytes).to.equal(4245 * MIB);
    expect(apps.problems).to.deep.equal([
      {
        gpuUuid: 'GPU-2aca1595-4178-e95d-5c73-1119550b5b09',
        kind: 'process_unattributed',
        message:
          '1 process row(s) on this GPU have no usable pid (pid "[Not Supported]") and are left out',
      },
    ]);
  });

  it('reads the canonical header of an aliased query without pids', () => {
    const apps = appsOf(
      text(
        'csv-with-header-compute-apps-alias-name-vgpu-host-dcgm-exporter-94.csv',
      ),
    );

    expect(apps.gpuUuids).to.deep.equal([
      'GPU-e2039996-62ee-9aea-565a-5ee539bfb770',
      'GPU-616d10bc-f454-a3c9-2298-f2ce34972e95',
    ]);
    expect(apps.rows).to.deep.equal([]);
    expect(apps.problems.map((p) => p.kind)).to.deep.equal([
      'process_unattributed',
      'process_unattributed',
    ]);
  });

  it('keeps a process name that contains ", "', () => {
    const csv = [
      'gpu_uuid, pid, process_name, used_gpu_memory [MiB]',
      'GPU-a, 41872, /usr/bin/code, tunnel --accept, 3072 MiB',
    ].join('\n');

    const apps = appsOf(csv);

    expect(apps.rows[0]?.process).to.deep.equal({
      pid: 41872,
      type: 'compute',
      usedBytes: 3072 * MIB,
      name: '/usr/bin/code, tunnel --accept',
    });
  });

  it('reads columns in any order', () => {
    const csv =
      'used_memory [MiB], process_name, pid, gpu_uuid\n12, x, 7, GPU-b\n';

    const apps = appsOf(csv);

    expect(apps.rows[0]).to.deep.include({ gpuUuid: 'GPU-b' });
    expect(apps.rows[0]?.process).to.deep.include({
      pid: 7,
      usedBytes: 12 * MIB,
    });
  });

  it('refuses a CSV without a gpu_uuid column', () => {
    const result = parseComputeAppsCsv('pid, process_name\n1, a\n');

    expect(!result.ok && result.error.kind).to.equal('csv_missing_column');
  });
});
