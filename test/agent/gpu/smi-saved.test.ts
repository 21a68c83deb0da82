import { expect } from 'chai';
import { parseSavedSmiOutput } from '../../../agent/src/gpu/smi-saved.ts';
import type { SourceSample } from '../../../agent/src/gpu/source.ts';
import { smiFixture, smiFixtureNames } from '../../fakes/nvidia-smi/fixture.ts';

const MIB = 2 ** 20;

/** [GPU count, first UUID, first GPU used MiB, process count over all]. */
type Data = [number, string, number | null, number];

/** What `sample --from` yields for every recorded fixture. */
const EXPECTED: Record<string, Data | { kind: string; says?: string }> = {
  'csv-compute-apps-h100-driver590.csv': [
    1,
    'GPU-db2567ac-5f28-8582-c76b-2368dcce0632',
    null,
    3,
  ],
  'csv-compute-apps-h100-mig-driver590-idle-header-only.csv': [0, '', null, 0],
  'csv-compute-apps-h100-mig-driver590-parent-gpu-uuid.csv': [
    1,
    'GPU-7dafebd9-a509-3a38-2a61-494752e80f3e',
    null,
    3,
  ],
  'csv-compute-apps-rtx2080super-driver595-compute-only.csv': [
    1,
    'GPU-8494c6b0-9790-7ded-ac46-e3c94caa5c0e',
    null,
    2,
  ],
  'csv-compute-apps-rtx2080super-driver610.csv': [
    1,
    'GPU-d4e53ead-d9d0-94b0-76e3-4ac30dfa8a8b',
    null,
    2,
  ],
  'csv-compute-apps-win-rtx2080super-driver591-wddm-na.csv': [
    1,
    'GPU-8990baa5-72e6-d429-01c4-33f8a6dcf09e',
    null,
    12,
  ],
  'csv-noheader-nounits-compute-apps-3x-gtx-titanx-notsupported-MOCK.csv': {
    kind: 'csv_without_header',
  },
  'csv-noheader-nounits-memory-2x-quadro-rtx5000-wddm-na-yolox-1429.csv': {
    kind: 'csv_without_header',
  },
  'csv-noheader-nounits-memory-free-a100-mig-in-container-insufficient-permissions-ollama-932.csv':
    { kind: 'csv_without_header' },
  'csv-noheader-nounits-query-gpu-3x-gtx-titanx-notsupported-MOCK.csv': {
    kind: 'csv_without_header',
  },
  'csv-noheader-nounits-query-gpu-fan-na-newer-driver-i3pystatus-776.csv': {
    kind: 'csv_without_header',
  },
  'csv-noheader-nounits-query-gpu-fan-notsupported-older-driver-i3pystatus-776.csv':
    { kind: 'csv_without_header' },
  'csv-query-gpu-full-h100-mig-driver590.csv': [
    1,
    'GPU-7dafebd9-a509-3a38-2a61-494752e80f3e',
    11125,
    0,
  ],
  'csv-query-gpu-full-rtx2080super-driver610.csv': [
    1,
    'GPU-d4e53ead-d9d0-94b0-76e3-4ac30dfa8a8b',
    815,
    0,
  ],
  'csv-query-gpu-full-win-rtx2080super-driver591-wddm.csv': [
    1,
    'GPU-8990baa5-72e6-d429-01c4-33f8a6dcf09e',
    1296,
    0,
  ],
  'csv-query-gpu-nounits-with-header-tesla-p100-driver510.csv': [
    1,
    'GPU-e9e7efdf-381d-1ebb-8ec8-f06b08bd7dbd',
    0,
    0,
  ],
  'csv-with-header-compute-apps-alias-name-vgpu-host-dcgm-exporter-94.csv': [
    2,
    'GPU-e2039996-62ee-9aea-565a-5ee539bfb770',
    null,
    0,
  ],
  'csv-with-header-gb10-memory-all-na-unsloth-10283.csv': [
    1,
    'unknown-gpu-0',
    null,
    0,
  ],
  'err-cannot-communicate-with-driver-exit9-nvidia-gpu-exporter-65.txt': {
    kind: 'driver_not_loaded',
  },
  'err-device-handle-unknown-error-nvidia-docker-1553.txt': {
    kind: 'gpu_lost',
  },
  'err-driver-library-version-mismatch-exit18-gputil-55.txt': {
    kind: 'driver_mismatch',
  },
  'err-no-devices-were-found-singuconda-6.txt': { kind: 'no_devices' },
  'err-no-supported-gpus-exit255-dra-driver-nvidia-gpu-1008.txt': {
    kind: 'no_devices',
  },
  'help-query-compute-apps-driver590.txt': {
    kind: 'unsupported_format',
    says: '--help-query',
  },
  'list-L-h100-mig-driver590.txt': {
    kind: 'unsupported_format',
    says: 'nvidia-smi -L',
  },
  'list-L-h200-mig-driver590-ci-profiles.txt': {
    kind: 'unsupported_format',
    says: 'nvidia-smi -L',
  },
  'pmon-rtx2080super-driver595-load.txt': {
    kind: 'unsupported_format',
    says: 'pmon',
  },
  'q-text-h200-mig-driver590-procs-gi-ci.txt': {
    kind: 'unsupported_format',
    says: '`nvidia-smi -q` text',
  },
  'q-text-win-rtx2080super-driver591-wddm.txt': {
    kind: 'unsupported_format',
    says: '`nvidia-smi -q` text',
  },
  'xml-2x-rtx2070-driver590-v13-noprocs.xml': [
    2,
    'GPU-7a5e7802-87fb-47a8-0141-ee796a6cc213',
    1,
    0,
  ],
  'xml-2x-rtx2080ti-driver410-v10-ecc-unsupported.xml': [
    2,
    'GPU-73be26da-e007-c82a-0a18-248d9bb3f10b',
    0,
    0,
  ],
  'xml-a100-sxm4-40gb-driver510-v11-mig-2instances.xml': [
    3,
    'GPU-cf86c068-1554-36c2-da64-0d82ca3be9dc',
    38,
    0,
  ],
  'xml-a100-sxm4-80gb-driver535-v12-mig-4instances-trimmed.xml': [
    5,
    'GPU-a27ca890-e223-3a47-06a9-2c03b5194fde',
    50,
    0,
  ],
  'xml-gt1030-driver470-v11-10procs-zero-mib.xml': [
    1,
    'GPU-86cdb05b-0e02-6d30-5fd0-0234eae230a3',
    875,
    10,
  ],
  'xml-gt730-driver384-v9-utilization-na-trimmed.xml': [
    1,
    'GPU-9146358d-44cc-a30c-4a75-79313a368ea1',
    null,
    0,
  ],
  'xml-gtx1070-driver384-v9-attached6-but-2gpus-same-pid-2gpus.xml': [
    2,
    'GPU-751594e9-8bdd-d22c-bdf0-b38ba9cb213e',
    2028,
    4,
  ],
  'xml-gtx1070ti-v10-fragment.xml': [
    1,
    'GPU-ca04afe5-2238-3f6a-ee40-2be6b1ec7869',
    42,
    0,
  ],
  'xml-rtx-pro6000-blackwell-maxq-driver590-v13-procs.xml': [
    1,
    'GPU-e76b43d3-23e4-ff59-1f49-64246728c35d',
    65720,
    1,
  ],
  'xml-rtx-pro6000-driver580-trimmed-padded-values.xml': [
    1,
    'GPU-125e9216-46c9-fb89-8cb1-c240fd97f009',
    null,
    0,
  ],
  'xml-rtx3060-laptop-driver515-v11-1proc.xml': [
    1,
    'GPU-fbe723cf-c2ff-e3d8-1f0d-06bf560c6897',
    5,
    1,
  ],
  'xml-rtx3090-driver525-v12-noprocs.xml': [
    1,
    'GPU-75780f25-fe0a-d57f-5742-2f7d8abc02ff',
    1,
    0,
  ],
  'xml-rtx3090-driver590-v13.xml': [
    1,
    'GPU-69e60946-84f3-8f39-0ce7-97aa707dc5a0',
    7,
    0,
  ],
  'xml-rtx4090-driver535-v12-noprocs.xml': [
    1,
    'GPU-387da72d-04be-2947-5108-f8a3dcb26dc0',
    2,
    0,
  ],
  'xml-tesla-p100-driver510-v11.xml': [
    1,
    'GPU-4d3b9ed6-e89f-c644-f09b-033fce388367',
    0,
    0,
  ],
  'xml-tesla-t4-driver515-v11-procs-G-and-C.xml': [
    1,
    'GPU-2f1e80ae-5a06-72c0-fe68-78f860be5215',
    1032,
    2,
  ],
  'xml-win-rtx2080-driver516-wddm-26procs-na-mem-empty-names.xml': [
    1,
    'GPU-c3ceb267-63fd-ee70-86d0-ee2e71d7f250',
    862,
    26,
  ],
};

function expectationOf(name: string) {
  if (name.startsWith('table-') || name.startsWith('snippet-table-')) {
    return { kind: 'unsupported_format', says: 'plain `nvidia-smi` table' };
  }
  return EXPECTED[name];
}

function summary(sample: SourceSample): Data {
  const gpu = sample.gpus[0];
  const used = gpu?.memory.usedBytes ?? null;
  return [
    sample.gpus.length,
    gpu?.uuid ?? '',
    used === null ? null : used / MIB,
    sample.gpus.reduce((n, g) => n + g.processes.length, 0),
  ];
}

describe('parseSavedSmiOutput()', () => {
  describe('every recorded fixture', () => {
    it('has an expectation for each fixture', () => {
      const missing = smiFixtureNames().filter((n) => !expectationOf(n));

      expect(missing).to.deep.equal([]);
    });

    for (const name of smiFixtureNames()) {
      const expected = expectationOf(name);
      if (!expected) continue;
      it(`reads ${name}`, () => {
        const result = parseSavedSmiOutput(smiFixture(name));

        if (Array.isArray(expected)) {
          expect(result.ok && summary(result.value)).to.deep.equal(expected);
          return;
        }
        expect(result.ok).to.equal(false);
        if (result.ok) return;
        expect(result.error.kind).to.equal(expected.kind);
        expect(result.error.message).not.to.include('\n');
        if (expected.says) {
          expect(result.error.message).to.include(expected.says);
          expect(result.error.message).to.include('nvidia-smi -q -x');
          expect(result.error.message).to.include('--query-gpu');
        }
      });
    }
  });

  it('joins a query-gpu CSV and a compute-apps CSV saved in one file', () => {
    const bytes = Buffer.concat([
      smiFixture('csv-query-gpu-full-h100-mig-driver590.csv'),
      smiFixture('csv-compute-apps-h100-mig-driver590-parent-gpu-uuid.csv'),
    ]);

    const result = parseSavedSmiOutput(bytes);

    expect(result.ok).to.equal(true);
    if (!result.ok) return;
    const gpu = result.value.gpus[0];
    expect(gpu?.memory.usedBytes).to.equal(11125 * MIB);
    expect(gpu?.processes.map((p) => [p.pid, p.usedBytes])).to.deep.equal([
      [21180, 2296 * MIB],
      [21181, 1272 * MIB],
      [21198, 7484 * MIB],
    ]);
    expect(result.value.problems.map((p) => p.kind)).to.include(
      'mig_slice_unknown',
    );
  });

  it('reports compute-apps rows of a GPU the query-gpu CSV lacks', () => {
    const bytes = Buffer.concat([
      smiFixture('csv-query-gpu-full-rtx2080super-driver610.csv'),
      smiFixture('csv-compute-apps-h100-driver590.csv'),
    ]);

    const result = parseSavedSmiOutput(bytes);

    expect(result.ok && result.value.gpus[0]?.processes).to.deep.equal([]);
    expect(result.ok && result.value.problems.map((p) => p.kind)).to.include(
      'process_gpu_unknown',
    );
  });

  it('says a compute-apps CSV alone knows GPUs only by UUID', () => {
    const result = parseSavedSmiOutput(
      smiFixture('csv-compute-apps-h100-driver590.csv'),
    );

    expect(result.ok && result.value.gpus[0]?.memory.totalBytes).to.equal(null);
    expect(result.ok && result.value.problems.map((p) => p.kind)).to.deep.equal(
      ['gpu_fields_unknown'],
    );
  });

  it('reads XML saved with CRLF line ends and non-UTF-8 bytes', () => {
    const xml = smiFixture('xml-tesla-t4-driver515-v11-procs-G-and-C.xml')
      .toString('latin1')
      .replace(
        '<process_name>python</process_name>',
        '<process_name>py\xf8</process_name>',
      )
      .replace(/\n/g, '\r\n');

    const result = parseSavedSmiOutput(Buffer.from(xml, 'latin1'));

    expect(result.ok && result.value.gpus[0]?.processes[1]).to.deep.equal({
      pid: 5762,
      type: 'compute',
      usedBytes: 1005 * MIB,
      name: 'py\uFFFD',
    });
  });

  it('refuses an empty file with the accepted formats', () => {
    const result = parseSavedSmiOutput(Buffer.from('\n\n'));

    expect(!result.ok && result.error.kind).to.equal('empty_output');
    expect(!result.ok && result.error.message).to.include('--query-gpu');
  });

  it('refuses text that is not nvidia-smi output', () => {
    const result = parseSavedSmiOutput(Buffer.from('hello world\n'));

    expect(!result.ok && result.error.kind).to.equal('unsupported_format');
  });
});
