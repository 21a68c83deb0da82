/**
 * The postmortem of a live agent's stream (`npm run demo`, recorded in
 * `test/fixtures/jasper/live-demo-stream.jsonl`): the guard sends SIGTERM
 * to `code-tunnel` (pid 21371), its 3 GiB come back, no SIGKILL is needed.
 */
import { expect } from 'chai';
import {
  addEvidence,
  DEFAULT_EVIDENCE_LIMITS,
  emptyEvidence,
} from '../../../collector/src/incidents/evidence.ts';
import { factsOf } from '../../../collector/src/incidents/facts.ts';
import type { Incident } from '../../../collector/src/incidents/incident.ts';
import { GIB, guard } from './support/jasper-story.ts';
import { replayLiveDemo } from './support/live-demo.ts';
import type { LiveDemoRun } from './support/live-demo.ts';

const TUNNEL = 'VS Code Remote Tunnel (`code-tunnel`, pid 21371)';

function section(markdown: string, heading: string): string {
  return markdown.split(`## ${heading}`)[1]!.split('\n## ')[0]!;
}

describe('postmortem of a live agent stream', () => {
  let run: LiveDemoRun;
  let incident: Incident;
  let markdown: string;

  before(async () => {
    run = await replayLiveDemo();
    incident = run.incident;
    markdown = run.markdown;
  });

  after(() => run.cleanup());

  it('opens one SEV2 incident and resolves it', () => {
    expect(run.manager.list()).to.have.length(1);
    expect(incident.severity).to.equal('SEV2');
    expect(incident.openedAt).to.equal('2026-12-04T16:59:44Z');
    expect(incident.status).to.equal('resolved');
  });

  it('counts a process the guard signalled as acted on, with no "no action" step', () => {
    const facts = factsOf(incident.evidence);

    expect(facts.kill).to.equal(null);
    expect(facts.signals.map((e) => e.signal)).to.deep.equal(['SIGTERM']);
    expect(facts.actedOn).to.equal(true);
    expect(incident.remediation).to.deep.equal([
      `The reservation guard found the competing process at 2026-12-04T16:59:21Z: ${TUNNEL} held 3.0 GiB on GPU 0 (NVIDIA GeForce RTX 4090)`,
      `The guard sent SIGTERM to ${TUNNEL} at 2026-12-04T16:59:51Z`,
      'VRAM freed: 3.0 GiB; 3.2 GiB free afterwards',
      'The SLO alert cleared at 2026-12-04T17:00:54Z within 1 minute of the action (the last slow or failed request was counted by 2026-12-04T16:59:58Z); it stayed clear for 30 seconds, so the incident resolved itself',
    ]);
    expect(markdown).to.not.contain('took no action');
  });

  it('takes the free VRAM afterwards from the first snapshot after the freed event', () => {
    const facts = factsOf(incident.evidence);

    // The freed event carries the free VRAM the guard saw before the kill.
    expect(facts.freed?.freeBytes).to.equal(1208270218);
    expect(facts.freeAfterBytes).to.equal(3421761536);
    expect(section(markdown, 'Resolution')).to.contain(
      '3. VRAM freed: 3.0 GiB; 3.2 GiB free afterwards',
    );
  });

  it('states what users saw from the request latency buckets, not the probe', () => {
    const impact = section(markdown, 'Impact');

    expect(impact).to.contain(
      'From 2026-12-04T16:59:00Z to 2026-12-04T17:00:00Z, 16 of the 609 requests the agent counted took longer than 2 seconds (the slowest over 3 seconds) and none failed.',
    );
    expect(impact).to.not.contain('Latency measured by the agent');
    expect(impact).to.not.match(/\d+ ms to \d+ ms/);
  });

  it('says the error budget was used up instead of a negative share remaining', () => {
    expect(section(markdown, 'Impact')).to.match(
      /The SLO period's error budget was used up: \d+\.\d% of it was spent\./,
    );
    expect(markdown).to.not.match(/-\d+\.\d% of the SLO period/);
  });

  it('explains the spill with the reservation and the shortfall the guard computed', () => {
    expect(incident.rootCause).to.contain(
      `${TUNNEL} held 3.0 GiB of VRAM on GPU 0 (NVIDIA GeForce RTX 4090, 24.0 GiB). Ollama's model qwen2.5:32b needs 20.3 GiB, and the guard reserves 21.0 GiB for Ollama: the model plus room to run it. With VS Code Remote Tunnel on the GPU that reservation was 1002 MiB short, so the model no longer fitted.`,
    );
    expect(incident.rootCause).to.not.contain('leaving at most');
  });

  it('times the alert from the first SLI interval with slow requests', () => {
    const facts = factsOf(incident.evidence);

    // 16:59:26: the first 2-second interval with a request over 2 s.
    expect(facts.requests.firstBadMs).to.equal(
      Date.parse('2026-12-04T16:59:26Z'),
    );
    expect(section(markdown, 'Lessons Learned')).to.contain(
      '- The alert fired within 18 seconds of the first slow or failed requests',
    );
  });

  it('credits the guard with freeing the memory although it sent no SIGKILL', () => {
    const lessons = section(markdown, 'Lessons Learned');

    expect(lessons).to.contain(
      '- The guard freed 3.0 GiB by policy, without waiting for a person',
    );
    expect(lessons).to.not.contain(
      'kept its memory until it was stopped by hand',
    );
  });
});

describe('factsOf() on guard actions', () => {
  const T0 = Date.parse('2026-02-28T14:30:00Z');

  function evidenceOf(
    ...messages: ReturnType<typeof guard>[]
  ): ReturnType<typeof emptyEvidence> {
    const evidence = emptyEvidence();
    for (const m of messages) addEvidence(evidence, m, DEFAULT_EVIDENCE_LIMITS);
    return evidence;
  }

  it('counts a process reported freed as acted on', () => {
    const facts = factsOf(
      evidenceOf(
        guard(T0, 'warning', 'w'),
        guard(T0 + 1, 'freed', 'f', { freedBytes: 3 * GIB }),
      ),
    );

    expect(facts.actedOn).to.equal(true);
    expect(facts.culprit?.process.pid).to.equal(41872);
  });

  it('does not count a warning alone as acted on', () => {
    expect(factsOf(evidenceOf(guard(T0, 'warning', 'w'))).actedOn).to.equal(
      false,
    );
  });

  it("uses the freed event's free VRAM only when it shows the memory back", () => {
    const stale = factsOf(
      evidenceOf(
        guard(T0, 'plan', 'p', { freeBytes: 1 * GIB }),
        guard(T0 + 1, 'freed', 'f', {
          freedBytes: 3 * GIB,
          freeBytes: 1 * GIB,
        }),
      ),
    );
    const fresh = factsOf(
      evidenceOf(
        guard(T0, 'plan', 'p', { freeBytes: 1 * GIB }),
        guard(T0 + 1, 'freed', 'f', {
          freedBytes: 3 * GIB,
          freeBytes: 4 * GIB,
        }),
      ),
    );

    expect(stale.freeAfterBytes).to.equal(null);
    expect(fresh.freeAfterBytes).to.equal(4 * GIB);
  });
});
