import { expect } from 'chai';
import { parseAgentConfig } from '../../../agent/src/config.ts';
import type { CheckReport } from '../../../agent/src/guard/check-report.ts';
import { parseConfigText } from '../../../shared/src/config.ts';
import type { GpuSnapshot, Snapshot } from '../../../shared/src/snapshot.ts';
import {
  MIB_BYTES,
  compareMemory,
  findOffender,
  invisibleReason,
  parseSmiMemoryCsv,
  readVerdict,
  renderAgentConfig,
  reserveFor,
} from '../../../scripts/gpu-check/figures.ts';

const UUID = 'GPU-4a3f7c1e-8b2d-4e6f-9a1c-3d5e7f9b2c4a';
const GIB = 2 ** 30;

function gpu(usedMib: number, processes: GpuSnapshot['processes'] = []) {
  return {
    index: 0,
    uuid: UUID,
    name: 'NVIDIA H200',
    pciBusId: null,
    memory: {
      totalBytes: 1000 * MIB_BYTES,
      usedBytes: usedMib * MIB_BYTES,
      freeBytes: (1000 - usedMib) * MIB_BYTES,
      reservedBytes: 0,
    },
    utilizationPercent: { gpu: null, memory: null },
    temperatureC: null,
    powerWatts: null,
    migEnabled: null,
    processes,
  };
}

function snapshot(gpus: GpuSnapshot[], problems: Snapshot['problems'] = []) {
  return {
    node: 'h',
    takenAt: '2026-03-02T13:47:00Z',
    source: 'nvml' as const,
    driverVersion: '570.1',
    gpus,
    problems,
  };
}

function proc(pid: number, usedBytes: number | null) {
  return {
    pid,
    name: 'python3',
    type: 'compute' as const,
    usedBytes,
    user: 'dev',
    command: null,
    startedAt: null,
  };
}

describe('gpu-check figures', () => {
  describe('parseSmiMemoryCsv()', () => {
    it('reads index, total, used and free MiB and keeps [N/A] as null', () => {
      const rows = parseSmiMemoryCsv(
        '0, 143771, 512, 143259\n1, [N/A], 3, 7\n',
      );

      expect(rows).to.deep.equal([
        { index: 0, totalMib: 143771, usedMib: 512, freeMib: 143259 },
        { index: 1, totalMib: null, usedMib: 3, freeMib: 7 },
      ]);
    });
  });

  describe('compareMemory()', () => {
    it('agrees when the sources differ within the tolerance', () => {
      const result = compareMemory(snapshot([gpu(100)]), snapshot([gpu(140)]), [
        { index: 0, totalMib: 1000, usedMib: 100, freeMib: 900 },
      ]);

      expect(result.agrees).to.equal(true);
      expect(result.lines).to.have.length(4);
      expect(result.lines[2]).to.match(
        /^\s+0\s+used\s+100\s+140\s+100\s+-40\s+0$/,
      );
    });

    it('marks a used difference beyond 64 MiB and a missing figure', () => {
      const result = compareMemory(snapshot([gpu(100)]), snapshot([gpu(300)]), [
        { index: 0, totalMib: null, usedMib: 100, freeMib: 900 },
      ]);

      expect(result.agrees).to.equal(false);
      expect(result.lines[1]).to.match(/total !/);
      expect(result.lines[2]).to.match(/used {2}!/);
    });
  });

  describe('findOffender()', () => {
    it('finds the GPU where the pid holds at least the given bytes', () => {
      const s = snapshot([gpu(100, [proc(4242, 2 * GIB), proc(7, GIB)])]);

      expect(findOffender(s, 4242, GIB)).to.deep.equal({
        gpuUuid: UUID,
        gpuIndex: 0,
        usedBytes: 2 * GIB,
        freeBytes: 900 * MIB_BYTES,
        totalBytes: 1000 * MIB_BYTES,
      });
      expect(findOffender(s, 4242, 3 * GIB)).to.equal(null);
      expect(findOffender(s, 99, 1)).to.equal(null);
    });

    it('names a PID namespace problem as the reason the offender is unseen', () => {
      const s = snapshot(
        [gpu(100)],
        [
          {
            kind: 'pid_unresolved',
            message: 'GPU pids not found in /proc (88)',
          },
        ],
      );

      expect(invisibleReason(s)).to.equal('GPU pids not found in /proc (88)');
      expect(invisibleReason(snapshot([gpu(1)]))).to.equal(null);
    });
  });

  describe('reserveFor()', () => {
    it('reserves half the offender beyond the room there is now', () => {
      expect(reserveFor(20 * GIB, 2 * GIB)).to.equal(21 * GIB);
      expect(reserveFor(-5 * GIB, 2 * GIB)).to.equal(MIB_BYTES);
    });
  });

  describe('renderAgentConfig()', () => {
    it('writes a config that the agent accepts as run and check read it', () => {
      const text = renderAgentConfig({
        gpuUuid: UUID,
        reserveBytes: 21 * GIB,
        user: 'dev',
        minVictimBytes: GIB,
        stateDir: '/tmp/gpu check',
        nvmlLibraryPath: 'libnvidia-ml.so.1',
        nvidiaSmiPath: '/usr/bin/nvidia-smi',
      });

      const config = parseAgentConfig(
        parseConfigText(text, 'agent.yaml'),
        'agent.yaml',
        '/tmp',
      );

      expect(config.guard.mode).to.equal('enforce');
      expect(config.guard.reservations[0]).to.include({
        gpuUuid: UUID,
        reservedBytes: 21 * GIB,
      });
      expect(config.guard.eligible).to.include({
        minVictimBytes: GIB,
        containers: 'kill',
      });
      expect(config.guard.eligible.users).to.deep.equal(['dev']);
      expect(config.guard.killSwitchFile).to.equal(
        '/tmp/gpu check/disable-enforce',
      );
      expect(config.sampling.source).to.equal('nvml');
    });
  });

  describe('readVerdict()', () => {
    function report(wouldDo: string, victims: number[]): CheckReport {
      return {
        node: 'h',
        takenAt: '',
        source: 'nvml',
        killSwitch: false,
        missing: [],
        gpus: [
          {
            gpuUuid: UUID,
            gpuIndex: 0,
            workload: 'ollama',
            model: null,
            mode: 'enforce',
            math: null,
            wouldDo,
            summary: 'summary',
            processes: [4242, 77].map((pid) => ({
              pid,
              name: null,
              user: 'dev',
              usedBytes: GIB,
              role: victims.includes(pid) ? 'victim' : 'candidate',
              reason: 'eligible, not needed',
            })),
          },
        ],
      };
    }

    it('accepts a kill of exactly the offender', () => {
      expect(readVerdict(report('kill', [4242]), UUID, 4242)).to.include({
        wouldDo: 'kill',
        problem: null,
      });
    });

    it('says why when the verdict is not a kill, or names another pid', () => {
      expect(readVerdict(report('warn', []), UUID, 4242).problem).to.equal(
        'check would warn, not kill: summary',
      );
      expect(readVerdict(report('kill', [77]), UUID, 4242).problem).to.equal(
        'check chose pid(s) 77, not the offender 4242 (candidate: eligible, not needed)',
      );
      expect(
        readVerdict(report('kill', [4242]), 'GPU-x', 4242).problem,
      ).to.equal("GPU GPU-x is not in the check's snapshot");
    });
  });
});
