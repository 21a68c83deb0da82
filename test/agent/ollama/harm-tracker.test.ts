import { expect } from 'chai';
import type { RunningModel } from '../../../agent/src/ollama/api.ts';
import {
  DEFAULT_HARM_OPTIONS,
  HarmTracker,
} from '../../../agent/src/ollama/harm-tracker.ts';
import { INITIAL_RESIDENCY } from '../../../agent/src/ollama/residency.ts';
import type { ResidencyState } from '../../../agent/src/ollama/residency.ts';

const NOW = Date.parse('2026-02-28T14:32:00Z');
const GIB = 2 ** 30;
const running: RunningModel = {
  name: 'qwen2.5:32b',
  sizeBytes: 20 * GIB,
  sizeVramBytes: 20 * GIB,
  expiresAtMs: null,
  pinned: true,
  contextLength: null,
  digest: null,
};

const tracker = () =>
  new HarmTracker({
    ...DEFAULT_HARM_OPTIONS,
    windowMs: 300_000,
    latencyThresholdMs: 2000,
  });
const state = (over: Partial<ResidencyState>): ResidencyState => ({
  ...INITIAL_RESIDENCY,
  ...over,
});

describe('HarmTracker', () => {
  it('says nothing either way before it has evidence', () => {
    const signals = tracker().signals({
      residency: INITIAL_RESIDENCY,
      logKnown: false,
      nowMs: NOW,
    });

    expect(signals).to.deep.equal({
      latencyBreached: null,
      modelPartlyOnCpu: null,
      modelNotResidentWhileRequestsWait: null,
      recentLoadFailure: null,
      evidence: [],
    });
  });

  it('finds latency breached when over 5 % of recent requests were slow or failed', () => {
    const harm = tracker();
    for (let i = 0; i < 18; i += 1)
      harm.recordOutcome(NOW - i * 1000, false, 400);
    harm.recordOutcome(NOW - 20_000, false, 2400);
    harm.recordOutcome(NOW - 21_000, true, 10);

    const signals = harm.signals({
      residency: state({ phase: 'resident', running }),
      logKnown: true,
      nowMs: NOW,
    });

    expect(signals.latencyBreached).to.equal(true);
    expect(signals.evidence).to.include(
      '2 of 20 requests in the last 5 minutes failed or took over 2 seconds',
    );
  });

  it('forgets what is older than the window', () => {
    const harm = tracker();
    for (let i = 0; i < 5; i += 1) harm.recordOutcome(NOW - 400_000, true, 0);
    for (let i = 0; i < 5; i += 1)
      harm.recordOutcome(NOW - i * 1000, false, 300);

    const signals = harm.signals({
      residency: state({ phase: 'resident', running }),
      logKnown: true,
      nowMs: NOW,
    });

    expect(signals.latencyBreached).to.equal(false);
  });

  it('reports partial offload from /api/ps', () => {
    const partial = { ...running, sizeVramBytes: 19 * GIB };

    const signals = tracker().signals({
      residency: state({ phase: 'partly_on_cpu', running: partial }),
      logKnown: true,
      nowMs: NOW,
    });

    expect(signals.modelPartlyOnCpu).to.equal(true);
    expect(signals.evidence).to.include(
      'qwen2.5:32b partly on CPU (19.0 GiB of 20.0 GiB on GPU)',
    );
  });

  it('reports a missing model only while requests arrive', () => {
    const harm = tracker();
    const notResident = state({ phase: 'not_resident' });

    const idle = harm.signals({
      residency: notResident,
      logKnown: true,
      nowMs: NOW,
    });
    harm.recordDemand(NOW - 1000);
    const busy = harm.signals({
      residency: notResident,
      logKnown: true,
      nowMs: NOW,
    });

    expect(idle.modelNotResidentWhileRequestsWait).to.equal(false);
    expect(busy.modelNotResidentWhileRequestsWait).to.equal(true);
  });

  it('reports a recent load failure with its reason', () => {
    const harm = tracker();
    harm.recordLoadFailure(NOW - 120_000, 'CUDA error: out of memory');

    const signals = harm.signals({
      residency: state({ phase: 'not_resident' }),
      logKnown: true,
      nowMs: NOW,
    });

    expect(signals.recentLoadFailure).to.equal(true);
    expect(signals.evidence).to.include(
      'a model load failed 2 minutes ago: CUDA error: out of memory',
    );
  });

  it('falls back to the last load lines while /api/ps cannot answer', () => {
    const harm = tracker();
    harm.recordLayers(NOW - 5000, 58, 65);

    const signals = harm.signals({
      residency: state({ phase: 'unreachable' }),
      logKnown: true,
      nowMs: NOW,
    });

    expect(signals.modelPartlyOnCpu).to.equal(true);
  });
});
