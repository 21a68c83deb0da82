import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import type { AlertState } from '../../../collector/src/slo/alert-state.ts';
import { defaultSlo } from '../../../collector/src/slo/slo-config.ts';
import { parseAgentStream } from '../../../collector/src/replay/read-stream.ts';
import { runReplay } from '../../../collector/src/replay/replay.ts';
import type { IncidentSink } from '../../../collector/src/engine/engine-types.ts';
import type { AgentMessage } from '../../../shared/src/messages.ts';
import {
  JASPER,
  buildJasperStream,
  jasperStreamText,
} from '../../support/jasper-stream.ts';
import { JASPER_FIXTURE_PATH } from '../../support/jasper-write-fixture.ts';

class RecordingSink implements IncidentSink {
  readonly states: AlertState[] = [];
  readonly evidence: AgentMessage[] = [];

  async onAlertStates(states: AlertState[]): Promise<void> {
    this.states.push(...states);
  }

  recordEvidence(_node: string, message: AgentMessage): void {
    this.evidence.push(message);
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('Jasper replay (SLO side)', () => {
  let sink: RecordingSink;
  let messageCount: number;

  before(async () => {
    const run = await runReplay(
      { messages: buildJasperStream(), slos: [defaultSlo()] },
      {
        logger: createSilentLogger(),
        fs: createNodeFs(),
        createIncidents: async () => new RecordingSink(),
      },
    );
    sink = run.incidents;
    messageCount = run.messageCount;
  });

  it('keeps the committed fixture equal to the generator', () => {
    const committed = readFileSync(JASPER_FIXTURE_PATH, 'utf8');

    expect(committed === jasperStreamText()).to.equal(true);
    expect(parseAgentStream(committed, 'fixture')).to.have.length(messageCount);
  });

  it('first fires SEV2 slo_high_burn at 14:32:00 with 3.2× over rolling_1h', () => {
    const first = sink.states.find((s) => s.firing !== null);

    expect(iso(first!.evaluatedAtMs)).to.equal('2026-02-28T14:32:00.000Z');
    expect(first!.firing).to.include({
      rule: 'slo_high_burn',
      severity: 'SEV2',
      window: 'rolling_1h',
      shortWindow: 'rolling_5m',
      threshold: 3,
    });
    expect(first!.firing!.burnRate.toFixed(1)).to.equal('3.2');
    expect(first!.evaluatedAtMs).to.equal(JASPER.expectedOpenMs);
  });

  it('never reaches the critical or slow rules', () => {
    const rules = new Set(sink.states.map((s) => s.firing?.rule ?? null));

    expect([...rules]).to.have.members([null, 'slo_high_burn']);
  });

  it('stops firing at 14:37:10, once rolling_5m is clear', () => {
    const lastFiring = sink.states.filter((s) => s.firing !== null).pop()!;
    const clear = sink.states.find(
      (s) => s.evaluatedAtMs > lastFiring.evaluatedAtMs,
    )!;

    expect(iso(lastFiring.evaluatedAtMs)).to.equal('2026-02-28T14:37:00.000Z');
    expect(iso(clear.evaluatedAtMs)).to.equal(iso(JASPER.expectedClearMs));
    expect(clear.burnRates.rolling_5m).to.be.below(3);
    expect(clear.dataState).to.equal('ok');
  });

  it('judges with full windows and hands every message over as evidence', () => {
    const atOpen = sink.states.find((s) => s.firing !== null)!;

    expect(atOpen.dataState).to.equal('ok');
    // The 30-day period is covered since 08:00 only: 132 bad requests of
    // the 2 351 slices × 23 counted by then.
    expect(atOpen.budgetRemainingRatio).to.be.closeTo(
      1 - 132 / (2351 * 23) / 0.005,
      1e-12,
    );
    expect(sink.evidence).to.have.length(messageCount);
  });
});
