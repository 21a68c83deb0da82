import { expect } from 'chai';
import { parseSmiXml } from '../../../agent/src/gpu/smi-xml.ts';
import type { SourceSample } from '../../../agent/src/gpu/source.ts';
import { decodeSmiBytes } from '../../../agent/src/gpu/smi-values.ts';
import { smiFixture } from '../../fakes/nvidia-smi/fixture.ts';

const MIB = 2 ** 20;

function parseFixture(name: string): SourceSample {
  const result = parseSmiXml(decodeSmiBytes(smiFixture(name)));
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

interface Expected {
  uuids: string[];
  driver: string | null;
  /** Memory of GPU 0 in MiB: total, used, free, reserved (null: unknown). */
  memoryMib: [number | null, number | null, number | null, number | null];
  processes: [pid: number, type: string, usedMib: number | null][];
}

/** Values read off each recorded XML by eye (see SOURCES.md). */
const EXPECTED: Record<string, Expected> = {
  'xml-2x-rtx2070-driver590-v13-noprocs.xml': {
    uuids: [
      'GPU-7a5e7802-87fb-47a8-0141-ee796a6cc213',
      'GPU-3826b5f6-5b3d-3382-40d8-aa7d8662ddba',
    ],
    driver: '590.44.01',
    memoryMib: [8192, 1, 7786, 406],
    processes: [],
  },
  'xml-2x-rtx2080ti-driver410-v10-ecc-unsupported.xml': {
    uuids: [
      'GPU-73be26da-e007-c82a-0a18-248d9bb3f10b',
      'GPU-36b33b01-d2d2-26f3-fa87-d9948869c86f',
    ],
    driver: '410.73',
    memoryMib: [10989, 0, 10989, null],
    processes: [],
  },
  'xml-gt1030-driver470-v11-10procs-zero-mib.xml': {
    uuids: ['GPU-86cdb05b-0e02-6d30-5fd0-0234eae230a3'],
    driver: '470.74',
    memoryMib: [1998, 875, 1123, null],
    processes: [
      [607, 'graphics', 547],
      [746, 'graphics', 0],
    ],
  },
  'xml-gt730-driver384-v9-utilization-na-trimmed.xml': {
    uuids: ['GPU-9146358d-44cc-a30c-4a75-79313a368ea1'],
    driver: '384.111',
    memoryMib: [null, null, null, null],
    processes: [],
  },
  'xml-gtx1070-driver384-v9-attached6-but-2gpus-same-pid-2gpus.xml': {
    uuids: [
      'GPU-751594e9-8bdd-d22c-bdf0-b38ba9cb213e',
      'GPU-8b5bf581-8ffb-beb2-278a-2ad819732c25',
    ],
    driver: '384.66',
    memoryMib: [8112, 2028, 6084, null],
    processes: [
      [1357, 'graphics', 99],
      [2384, 'graphics', 79],
      [3093, 'compute', 2283],
    ],
  },
  'xml-gtx1070ti-v10-fragment.xml': {
    uuids: ['GPU-ca04afe5-2238-3f6a-ee40-2be6b1ec7869'],
    driver: null,
    memoryMib: [4096, 42, 4054, null],
    processes: [],
  },
  'xml-rtx-pro6000-blackwell-maxq-driver590-v13-procs.xml': {
    uuids: ['GPU-e76b43d3-23e4-ff59-1f49-64246728c35d'],
    driver: '590.44.01',
    memoryMib: [97887, 65720, 31531, 637],
    processes: [[116860, 'compute', 65710]],
  },
  'xml-rtx-pro6000-driver580-trimmed-padded-values.xml': {
    uuids: ['GPU-125e9216-46c9-fb89-8cb1-c240fd97f009'],
    driver: null,
    memoryMib: [null, null, null, null],
    processes: [],
  },
  'xml-rtx3060-laptop-driver515-v11-1proc.xml': {
    uuids: ['GPU-fbe723cf-c2ff-e3d8-1f0d-06bf560c6897'],
    driver: '515.65.01',
    memoryMib: [6144, 5, 5940, 197],
    processes: [[28543, 'graphics', 4]],
  },
  'xml-rtx3090-driver525-v12-noprocs.xml': {
    uuids: ['GPU-75780f25-fe0a-d57f-5742-2f7d8abc02ff'],
    driver: '525.147.05',
    memoryMib: [24576, 1, 24258, 316],
    processes: [],
  },
  'xml-rtx3090-driver590-v13.xml': {
    uuids: ['GPU-69e60946-84f3-8f39-0ce7-97aa707dc5a0'],
    driver: '590.44.01',
    memoryMib: [24576, 7, 24120, 450],
    processes: [],
  },
  'xml-rtx4090-driver535-v12-noprocs.xml': {
    uuids: ['GPU-387da72d-04be-2947-5108-f8a3dcb26dc0'],
    driver: '535.86.05',
    memoryMib: [24564, 2, 24214, 346],
    processes: [],
  },
  'xml-tesla-p100-driver510-v11.xml': {
    uuids: ['GPU-4d3b9ed6-e89f-c644-f09b-033fce388367'],
    driver: '510.47.03',
    memoryMib: [16384, 0, 16280, 103],
    processes: [],
  },
  'xml-tesla-t4-driver515-v11-procs-G-and-C.xml': {
    uuids: ['GPU-2f1e80ae-5a06-72c0-fe68-78f860be5215'],
    driver: '515.105.01',
    memoryMib: [15360, 1032, 13939, 388],
    processes: [
      [675, 'graphics', 22],
      [5762, 'compute', 1005],
    ],
  },
};

function bytesOrNull(mib: number | null): number | null {
  return mib === null ? null : mib * MIB;
}

describe('parseSmiXml()', () => {
  describe('recorded outputs', () => {
    for (const [file, expected] of Object.entries(EXPECTED)) {
      it(`reads GPUs, memory and processes of ${file}`, () => {
        const sample = parseFixture(file);
        const gpu = sample.gpus[0];
        const [total, used, free, reserved] = expected.memoryMib;

        expect(sample.gpus.map((g) => g.uuid)).to.deep.equal(expected.uuids);
        expect(sample.driverVersion).to.equal(expected.driver);
        expect(gpu?.memory).to.deep.equal({
          totalBytes: bytesOrNull(total),
          usedBytes: bytesOrNull(used),
          freeBytes: bytesOrNull(free),
          reservedBytes: bytesOrNull(reserved),
        });
        const seen = sample.gpus
          .flatMap((g) => g.processes)
          .map((p) => [p.pid, p.type, p.usedBytes]);
        for (const [pid, type, usedMib] of expected.processes) {
          expect(seen).to.deep.include([pid, type, bytesOrNull(usedMib)]);
        }
      });
    }
  });

  it('lists a pid on two GPUs once per GPU', () => {
    const sample = parseFixture(
      'xml-gtx1070-driver384-v9-attached6-but-2gpus-same-pid-2gpus.xml',
    );

    expect(sample.gpus[0]?.processes.map((p) => p.pid)).to.deep.equal([
      1357, 2384, 3093,
    ]);
    expect(sample.gpus[1]?.processes).to.deep.equal([
      { pid: 3093, type: 'compute', usedBytes: 2283 * MIB, name: './ethminer' },
    ]);
  });

  it('reports attached_gpus that disagree with the GPUs described', () => {
    const sample = parseFixture(
      'xml-gtx1070-driver384-v9-attached6-but-2gpus-same-pid-2gpus.xml',
    );

    expect(sample.problems.map((p) => p.kind)).to.include('gpu_count_mismatch');
  });

  it('keeps all ten processes of the GT 1030, including one of 0 MiB', () => {
    const gpu = parseFixture('xml-gt1030-driver470-v11-10procs-zero-mib.xml')
      .gpus[0];

    expect(gpu?.processes).to.have.length(10);
    expect(gpu?.processes.every((p) => p.type === 'graphics')).to.equal(true);
    expect(gpu?.processes.filter((p) => p.usedBytes === 0)).to.have.length(1);
  });

  it('reads the whole GPU and each MIG device of an A100', () => {
    const sample = parseFixture(
      'xml-a100-sxm4-40gb-driver510-v11-mig-2instances.xml',
    );
    const [parent, first, second] = sample.gpus;

    expect(sample.gpus).to.have.length(3);
    expect(parent?.migEnabled).to.equal(true);
    expect(parent?.memory.totalBytes).to.equal(40960 * MIB);
    expect(parent?.utilizationPercent).to.deep.equal({
      gpu: null,
      memory: null,
    });
    expect(first?.uuid).to.equal(
      'MIG-GPU-cf86c068-1554-36c2-da64-0d82ca3be9dc/1/0',
    );
    expect(first?.memory.totalBytes).to.equal(19968 * MIB);
    expect(first?.memory.usedBytes).to.equal(19 * MIB);
    expect(second?.uuid).to.equal(
      'MIG-GPU-cf86c068-1554-36c2-da64-0d82ca3be9dc/2/0',
    );
    expect(sample.problems.map((p) => p.kind)).to.include(
      'mig_uuid_synthesized',
    );
  });

  it('reads four MIG devices from the trimmed A100 80GB capture', () => {
    const sample = parseFixture(
      'xml-a100-sxm4-80gb-driver535-v12-mig-4instances-trimmed.xml',
    );

    expect(
      sample.gpus.map((g) => g.uuid.split('/').slice(1).join('/')),
    ).to.deep.equal(['', '3/0', '4/0', '5/0', '6/0']);
    expect(sample.gpus[1]?.memory.usedBytes).to.equal(12 * MIB);
  });

  it('keeps Windows WDDM process memory unknown with one problem', () => {
    const sample = parseFixture(
      'xml-win-rtx2080-driver516-wddm-26procs-na-mem-empty-names.xml',
    );
    const gpu = sample.gpus[0];

    expect(gpu?.uuid).to.equal('GPU-c3ceb267-63fd-ee70-86d0-ee2e71d7f250');
    expect(gpu?.memory.usedBytes).to.equal(862 * MIB);
    expect(gpu?.processes).to.have.length(26);
    expect(gpu?.processes.every((p) => p.usedBytes === null)).to.equal(true);
    expect(gpu?.processes[0]).to.include({
      pid: 7724,
      type: 'compute+graphics',
    });
    expect(gpu?.processes[1]).to.include({ pid: 10808, name: null });
    const memoryProblems = sample.problems.filter(
      (p) => p.kind === 'process_memory_unknown',
    );
    expect(memoryProblems).to.have.length(1);
  });

  it('reads power from instant_power_draw when power_draw is N/A', () => {
    const gpu = parseFixture(
      'xml-rtx-pro6000-driver580-trimmed-padded-values.xml',
    ).gpus[0];

    expect(gpu?.powerWatts).to.equal(66.84);
    expect(gpu?.temperatureC).to.equal(37);
  });

  it('reads v13 power from gpu_power_readings with deprecated fields', () => {
    const gpu = parseFixture('xml-rtx3090-driver590-v13.xml').gpus[0];

    expect(gpu?.powerWatts).to.equal(35.15);
    expect(gpu?.migEnabled).to.equal(false);
  });

  it('reads utilization N/A as null with a problem each', () => {
    const sample = parseFixture(
      'xml-gt730-driver384-v9-utilization-na-trimmed.xml',
    );

    expect(sample.gpus[0]?.utilizationPercent).to.deep.equal({
      gpu: null,
      memory: null,
    });
    const messages = sample.problems.map((p) => p.message);
    expect(messages.filter((m) => m.startsWith('utilization.'))).to.have.length(
      2,
    );
  });

  it('reads the same values with tabs, spaces, CRLF and no DOCTYPE', () => {
    const text = decodeSmiBytes(
      smiFixture('xml-tesla-t4-driver515-v11-procs-G-and-C.xml'),
    );
    const variant = text
      .replace(/<!DOCTYPE[^>]*>/, '')
      .replace(/\t/g, '   ')
      .replace(/\n/g, '\r\n');

    const a = parseSmiXml(text);
    const b = parseSmiXml(variant);

    expect(b).to.deep.equal(a);
  });

  it('never loads or expands a DTD or custom entity', () => {
    const text = [
      '<?xml version="1.0" ?>',
      '<!DOCTYPE nvidia_smi_log [ <!ENTITY x SYSTEM "file:///etc/passwd"> <!ENTITY y "boom"> ]>',
      '<nvidia_smi_log><gpu id="0"><uuid>GPU-1</uuid>',
      '<product_name>A &amp; B &y; &x;</product_name></gpu></nvidia_smi_log>',
    ].join('\n');

    const result = parseSmiXml(text);

    expect(result.ok && result.value.gpus[0]?.name).to.equal('A & B &y; &x;');
  });

  it('fails on output cut off before the end', () => {
    const text = decodeSmiBytes(
      smiFixture('xml-rtx4090-driver535-v12-noprocs.xml'),
    );

    const result = parseSmiXml(text.slice(0, 5000));

    expect(result.ok).to.equal(false);
    expect(!result.ok && result.error.kind).to.equal('bad_output');
  });

  it('fails on text that is not nvidia-smi XML', () => {
    const result = parseSmiXml('<html><body>hi</body></html>');

    expect(!result.ok && result.error.kind).to.equal('bad_output');
  });
});
