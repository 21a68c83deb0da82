import { expect } from 'chai';
import {
  addEvidence,
  DEFAULT_EVIDENCE_LIMITS,
  emptyEvidence,
  evidenceBetween,
} from '../../../collector/src/incidents/evidence.ts';
import { factsOf } from '../../../collector/src/incidents/facts.ts';
import {
  CODE_TUNNEL,
  GIB,
  guard,
  ms,
  OLLAMA_RUNNER,
  sliMinute,
  snapshot,
} from './support/jasper-story.ts';

const T0 = ms('2026-02-28T14:30:00Z');

describe('addEvidence()', () => {
  it('keeps one snapshot a minute: the one with the least free VRAM', () => {
    const evidence = emptyEvidence();

    addEvidence(
      evidence,
      snapshot(T0, [OLLAMA_RUNNER()], 35),
      DEFAULT_EVIDENCE_LIMITS,
    );
    addEvidence(
      evidence,
      snapshot(T0 + 10_000, [OLLAMA_RUNNER(), CODE_TUNNEL()], 98),
      DEFAULT_EVIDENCE_LIMITS,
    );
    addEvidence(
      evidence,
      snapshot(T0 + 20_000, [OLLAMA_RUNNER()], 35),
      DEFAULT_EVIDENCE_LIMITS,
    );
    addEvidence(
      evidence,
      snapshot(T0 + 60_000, [OLLAMA_RUNNER()], 35),
      DEFAULT_EVIDENCE_LIMITS,
    );

    expect(evidence.snapshots.map((s) => s.atMs)).to.deep.equal([
      T0 + 10_000,
      T0 + 60_000,
    ]);
    expect(evidence.snapshots[0]!.gpus[0]!.freeBytes).to.equal(1 * GIB);
  });

  it('counts successful requests over the latency threshold as slow', () => {
    const evidence = emptyEvidence();

    addEvidence(evidence, sliMinute(T0, 60, 20, 3), DEFAULT_EVIDENCE_LIMITS);

    const latencyCounts = new Array<number>(14).fill(0);
    latencyCounts[3] = 37; // ≤ 500 ms
    latencyCounts[8] = 20; // 2–3 s
    expect(evidence.sli).to.deep.equal([
      {
        minuteStartMs: T0,
        total: 60,
        failed: 3,
        slow: 20,
        latencyCounts,
        firstBadMs: T0,
        lastBadEndMs: T0 + 60_000,
      },
    ]);
  });

  it('bounds guard events, dropping the oldest', () => {
    const evidence = emptyEvidence();
    const limits = { ...DEFAULT_EVIDENCE_LIMITS, maxGuardEvents: 2 };

    for (let i = 0; i < 3; i += 1) {
      addEvidence(evidence, guard(T0 + i, 'warning', `w${i}`), limits);
    }

    expect(evidence.guardEvents.map((e) => e.message)).to.deep.equal([
      'w1',
      'w2',
    ]);
  });
});

describe('factsOf()', () => {
  it('finds the competing process in snapshots when the guard said nothing', () => {
    const evidence = emptyEvidence();
    addEvidence(
      evidence,
      snapshot(T0, [OLLAMA_RUNNER(), CODE_TUNNEL()], 98),
      DEFAULT_EVIDENCE_LIMITS,
    );

    const facts = factsOf(evidenceBetween(evidence, T0 - 1, T0 + 1));

    expect(facts.culprit).to.include({
      source: 'snapshot',
      heldBytes: 3 * GIB,
    });
    expect(facts.culprit!.process.name).to.equal('code-tunnel');
    expect(facts.hasReservation).to.equal(null);
  });

  it('prefers the process the guard killed', () => {
    const evidence = emptyEvidence();
    addEvidence(
      evidence,
      snapshot(T0, [OLLAMA_RUNNER()], 35),
      DEFAULT_EVIDENCE_LIMITS,
    );
    addEvidence(
      evidence,
      guard(T0 + 5, 'kill', 'killed', { signal: 'SIGKILL' }),
      DEFAULT_EVIDENCE_LIMITS,
    );

    const facts = factsOf(evidence);

    expect(facts.culprit).to.include({ source: 'guard' });
    expect(facts.culprit!.process.pid).to.equal(41872);
    expect(facts.kill!.signal).to.equal('SIGKILL');
  });
});
