import { expect } from 'chai';
import type { StepOutcome } from '../../../agent/src/guard/enforcer.ts';
import type {
  GuardEvent,
  GuardEventKind,
} from '../../../shared/src/messages.ts';
import type { Snapshot } from '../../../shared/src/snapshot.ts';
import {
  judgeEnforcement,
  renderEnforcement,
} from '../../../scripts/gpu-check/enforcement.ts';
import type { EnforcementRun } from '../../../scripts/gpu-check/enforcement.ts';

const UUID = 'GPU-4a3f7c1e-8b2d-4e6f-9a1c-3d5e7f9b2c4a';
const GIB = 2 ** 30;
const T0 = 1_772_459_232_000;
const PID = 4242;

function event(
  kind: GuardEventKind,
  atMs: number,
  extra: Partial<GuardEvent> = {},
): GuardEvent {
  return {
    atMs: T0 + atMs,
    kind,
    gpuUuid: UUID,
    state: 'hard_breach',
    mode: 'enforce',
    message: `${kind} message`,
    reservedBytes: 21 * GIB,
    protectedBytes: 0,
    freeBytes: 20 * GIB,
    deficitBytes: GIB,
    process: {
      pid: PID,
      name: 'python3',
      user: 'dev',
      unit: null,
      command: null,
      usedBytes: 2 * GIB,
    },
    freedBytes: null,
    signal: null,
    policyHash: 'h',
    details: {},
    ...extra,
  };
}

function outcome(result: StepOutcome['result']): StepOutcome {
  return {
    result,
    reason: null,
    signals: [],
    exitedAfterMs: 120,
    freedBytes: result === 'freed' ? 2 * GIB : 0,
    freeAfterBytes: result === 'freed' ? 3 * GIB : null,
    releasedAfterMs: result === 'freed' ? 350 : null,
  };
}

function after(listed: boolean, freeBytes = 22 * GIB): Snapshot {
  return {
    node: 'h',
    takenAt: '',
    source: 'nvml',
    driverVersion: null,
    problems: [],
    gpus: [
      {
        index: 0,
        uuid: UUID,
        name: null,
        pciBusId: null,
        memory: {
          totalBytes: 24 * GIB,
          usedBytes: null,
          freeBytes,
          reservedBytes: null,
        },
        utilizationPercent: { gpu: null, memory: null },
        temperatureC: null,
        powerWatts: null,
        migEnabled: null,
        processes: listed
          ? [
              {
                pid: PID,
                name: null,
                type: 'compute',
                usedBytes: 2 * GIB,
                user: null,
                command: null,
                startedAt: null,
              },
            ]
          : [],
      },
    ],
  };
}

function run(overrides: Partial<EnforcementRun> = {}): EnforcementRun {
  return {
    offenderPid: PID,
    startedAtMs: T0,
    hardGraceMs: 2000,
    intervalMs: 500,
    releaseRatio: 0.75,
    events: [
      event('breach', 10, { process: null }),
      event('signal', 2250, { signal: 'SIGTERM' }),
      event('freed', 2600, {
        freedBytes: 2 * GIB,
        details: { outcome: outcome('freed') },
      }),
    ],
    requests: [{ pid: PID, signal: 'SIGTERM', atMs: T0 + 2250, allowed: true }],
    after: after(false),
    ...overrides,
  };
}

describe('gpu-check enforcement', () => {
  describe('judgeEnforcement()', () => {
    it('passes when only the offender was signalled and its VRAM came back', () => {
      const verdict = judgeEnforcement(run());

      expect(verdict).to.deep.equal({
        passed: true,
        reason: null,
        toSigtermMs: 2250,
        sigkillNeeded: false,
        exitedAfterMs: 120,
        releasedAfterMs: 350,
        offenderUsedBytes: 2 * GIB,
        freeBeforeBytes: 20 * GIB,
        freeAfterBytes: 22 * GIB,
        freedBytes: 2 * GIB,
        offenderListedAfter: false,
        otherPidsSignalled: [],
      });
    });

    it('fails when the guard asked to signal another pid', () => {
      const requests = [
        ...run().requests,
        { pid: 77, signal: 'SIGTERM', atMs: T0 + 2300, allowed: false },
      ];

      const verdict = judgeEnforcement(run({ requests }));

      expect(verdict.passed).to.equal(false);
      expect(verdict.reason).to.equal(
        'the guard asked to signal pid(s) 77, not only the offender 4242',
      );
    });

    it('names the last guard event when no SIGTERM was sent', () => {
      const events = [event('infeasible', 600, { process: null })];

      const verdict = judgeEnforcement(run({ events, requests: [] }));

      expect(verdict.reason).to.equal(
        'the guard sent no SIGTERM to the offender 4242; last guard event: infeasible: infeasible message',
      );
    });

    it('fails with the step result when the offender was not verified gone', () => {
      const events = [
        event('signal', 2250, { signal: 'SIGTERM' }),
        event('kill', 5300, { signal: 'SIGKILL' }),
        event('abort', 10_300, { details: { outcome: outcome('unkillable') } }),
      ];

      const verdict = judgeEnforcement(run({ events, after: after(true) }));

      expect(verdict.sigkillNeeded).to.equal(true);
      expect(verdict.reason).to.equal(
        'the offender 4242 was signalled but not verified gone: unkillable',
      );
    });
  });

  describe('renderEnforcement()', () => {
    it('prints the times, the free memory and every signal asked for', () => {
      const r = run();

      const text = renderEnforcement(r, judgeEnforcement(r));

      expect(text).to.contain(
        'time to SIGTERM:          2.250 s after the first sample (grace.hard 2.000 s, sampling every 0.500 s)',
      );
      expect(text).to.contain(
        'VRAM verified free:       0.350 s after SIGTERM',
      );
      expect(text).to.contain(
        `free after:               22.0 GiB (${22 * GIB} bytes)`,
      );
      expect(text).to.contain(
        'signals asked for:        pid 4242 SIGTERM at 2.250 s',
      );
    });
  });
});
