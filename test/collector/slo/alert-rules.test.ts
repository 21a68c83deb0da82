import { expect } from 'chai';
import type { FiringRule } from '../../../collector/src/slo/alert-state.ts';
import { defaultSlo } from '../../../collector/src/slo/slo-config.ts';
import type { SloDefinition } from '../../../collector/src/slo/slo-config.ts';
import { judgeAt, seriesOf, sloWithTarget, steady } from './minute-buckets.ts';

// research/slo.md §12, judged with DESIGN §3.4's rules: slo_critical_burn
// 14.4× 1h & 5m (SEV1), slo_high_burn 3× 1h & 5m (SEV2), slo_slow_burn
// 1× 6h & 30m (SEV3). Where the verdict differs from the research's
// Workbook policy, the case says so.
describe('evaluateSlo()', () => {
  describe('numeric cases of research/slo.md §12', () => {
    it('TC-01 fires the critical rule on a steady 20× burn', () => {
      const series = seriesOf(steady(0, 59, 20, 200));

      const { state } = judgeAt(59, series);

      expect(state.burnRates.rolling_1h).to.equal(20);
      expect(state.burnRates.rolling_5m).to.equal(20);
      expect(state.firing?.rule).to.equal('slo_critical_burn');
      expect(state.firing?.severity).to.equal('SEV1');
      expect(state.dataState).to.equal('ok');
    });

    it('TC-02 stops the fast rules once the short window recovers', () => {
      const series = seriesOf([
        ...steady(0, 49, 40, 200),
        ...steady(50, 59, 0, 200),
      ]);

      const at = (m: number) => judgeAt(m, series).state;

      expect(at(52).firing?.rule).to.equal('slo_critical_burn');
      expect(at(52).burnRates.rolling_5m).to.be.closeTo(16, 1e-9);
      expect(at(53).firing?.rule).to.equal('slo_high_burn');
      expect(at(53).burnRates.rolling_5m).to.be.closeTo(8, 1e-9);
      expect(at(59).burnRates.rolling_1h).to.be.closeTo(100 / 3, 1e-9);
      expect(at(59).burnRates.rolling_5m).to.equal(0);
      // DESIGN's slow rule (1× over 6h & 30m) still sees the burst.
      expect(at(59).firing?.rule).to.equal('slo_slow_burn');
    });

    it('TC-03 pages a 5-minute spike only through the 3× rule', () => {
      const series = seriesOf([
        ...steady(0, 354, 0, 200),
        ...steady(355, 359, 100, 200),
      ]);

      const { state } = judgeAt(359, series);

      expect(state.burnRates.rolling_5m).to.equal(100);
      expect(state.burnRates.rolling_1h).to.be.closeTo(25 / 3, 1e-9);
      expect(state.burnRates.rolling_30m).to.be.closeTo(50 / 3, 1e-9);
      expect(state.burnRates.rolling_6h).to.be.closeTo(1.3888888, 1e-6);
      // Workbook policy: no alert; DESIGN's slo_high_burn (3×) fires.
      expect(state.firing?.rule).to.equal('slo_high_burn');
    });

    it('TC-04 opens SEV2 slo_high_burn at 3.2× in rolling_1h', () => {
      const rows = steady(0, 59, 0, 200).map(
        ([m, , total]): [number, number, number] => [
          m,
          m % 5 === 0 ? 16 : 0,
          total,
        ],
      );
      const cleanDay = steady(-1380, -1, 0, 200);

      const alone = judgeAt(59, seriesOf(rows)).state;
      const afterCleanDay = judgeAt(59, seriesOf([...cleanDay, ...rows])).state;

      expect(alone.burnRates.rolling_1h).to.be.closeTo(3.2, 1e-12);
      expect(alone.burnRates.rolling_5m).to.be.closeTo(3.2, 1e-12);
      expect(alone.firing).to.include({
        rule: 'slo_high_burn',
        severity: 'SEV2',
        window: 'rolling_1h',
        threshold: 3,
      });
      expect(afterCleanDay.burnRates.rolling_6h).to.be.closeTo(0.5333333, 1e-6);
      expect(afterCleanDay.firing?.rule).to.equal('slo_high_burn');
    });

    it('TC-05 fires slo_high_burn, not critical, on a steady 8× burn', () => {
      const series = seriesOf(steady(0, 359, 4, 100));

      const { state } = judgeAt(359, series);

      for (const name of [
        'rolling_5m',
        'rolling_30m',
        'rolling_1h',
        'rolling_6h',
      ]) {
        expect(state.burnRates[name], name).to.equal(8);
      }
      expect(state.firing?.rule).to.equal('slo_high_burn');
    });

    it('TC-06 counts a request of exactly the threshold as good', () => {
      const slo = { ...sloWithTarget(990_000), rules: withTicketRule() };
      const hour = (h: number): [number, number, number][] =>
        steady(h * 60, h * 60 + 59, 0, 50).map(([m, , t]) => [
          m,
          m % 60 >= 24 ? 1 : 0,
          t,
        ]);
      const rows = Array.from({ length: 72 }, (_, h) => hour(h)).flat();

      const { state } = judgeAt(72 * 60 - 1, seriesOf(rows, slo), { slo });

      expect(state.burnRates.rolling_6h).to.be.closeTo(1.2, 1e-12);
      expect(state.burnRates.rolling_3d).to.be.closeTo(1.2, 1e-12);
      expect(state.firing?.rule).to.equal('slo_slow_burn');
    });

    it('TC-07 reports no_traffic with null burns and keeps a firing rule', () => {
      const series = seriesOf(steady(0, 359, 0, 0));
      const held = firing('slo_high_burn');

      const quiet = judgeAt(359, series).state;
      const open = judgeAt(359, series, { previousFiring: held }).state;
      const silent = judgeAt(359, null, { lastSeenMs: null }).state;

      expect(Object.values(quiet.burnRates)).to.deep.equal([
        null,
        null,
        null,
        null,
      ]);
      expect(quiet.dataState).to.equal('no_traffic');
      expect(quiet.firing).to.equal(null);
      expect(quiet.budgetRemainingRatio).to.equal(null);
      expect(open.firing).to.equal(held);
      expect(silent.dataState).to.equal('no_data');
    });

    it('TC-08 fires on one failure in a near-idle hour (no minimum)', () => {
      const rows = steady(0, 9, 0, 1).map(([i]): [number, number, number] => [
        5 + i * 6,
        i === 9 ? 1 : 0,
        1,
      ]);

      const { state } = judgeAt(59, seriesOf(rows));

      expect(state.burnRates.rolling_1h).to.equal(20);
      expect(state.burnRates.rolling_5m).to.equal(200);
      expect(state.firing?.rule).to.equal('slo_critical_burn');
    });

    it('TC-09 sums interval deltas across a counter reset: 20/11', () => {
      const series = seriesOf([
        [0, 1, 200],
        [1, 3, 150],
        [2, 1, 200],
      ]);

      const { state } = judgeAt(2, series);

      expect(state.burnRates.rolling_30m).to.be.closeTo(20 / 11, 1e-12);
      expect(state.burnRates.rolling_6h).to.be.closeTo(20 / 11, 1e-12);
      // Coverage (3 minutes) is below every short window: nothing fires.
      expect(state.dataState).to.equal('partial');
      expect(state.firing).to.equal(null);
      const afterHalfHour = seriesOf([
        ...steady(0, 26, 0, 0),
        [27, 1, 200],
        [28, 3, 150],
        [29, 1, 200],
      ]);
      const later = judgeAt(29, afterHalfHour).state;
      expect(later.burnRates.rolling_30m).to.be.closeTo(20 / 11, 1e-12);
      expect(later.firing?.rule).to.equal('slo_slow_burn');
    });

    it('TC-10 judges a partial window over what exists, flagged', () => {
      const series = seriesOf(steady(50, 59, 30, 200));

      const verdict = judgeAt(59, series);
      const early = judgeAt(52, series);

      expect(verdict.state.burnRates.rolling_1h).to.equal(30);
      expect(verdict.state.burnRates.rolling_5m).to.equal(30);
      const hour = verdict.windows.find((w) => w.name === 'rolling_1h');
      expect(hour?.coverageRatio).to.be.closeTo(10 / 60, 1e-12);
      expect(verdict.state.firing?.rule).to.equal('slo_critical_burn');
      expect(early.state.dataState).to.equal('partial');
      expect(early.state.firing).to.equal(null);
    });

    it('TC-11 fires on an exact 14.4× tie with a 99.9 % target', () => {
      const slo = sloWithTarget(999_000);
      const rows = (lastBad: number): [number, number, number][] => [
        [0, 1296, 90_000],
        ...steady(1, 54, 0, 0),
        [55, 29, 2000],
        [56, 29, 2000],
        [57, 29, 2000],
        [58, 29, 2000],
        [59, lastBad, 2000],
      ];

      const tie = judgeAt(59, seriesOf(rows(28), slo), { slo }).state;
      const below = judgeAt(59, seriesOf(rows(27), slo), { slo }).state;

      expect(tie.burnRates.rolling_1h).to.equal(14.4);
      expect(tie.burnRates.rolling_5m).to.equal(14.4);
      expect(tie.firing?.rule).to.equal('slo_critical_burn');
      expect(below.firing?.rule).to.equal('slo_high_burn');
    });

    it('TC-12 flaps without a hold: the incident side must hold', () => {
      const series = seriesOf([
        ...steady(0, 59, 0, 200),
        ...steady(60, 69, 200, 200),
        ...steady(70, 74, 0, 200),
        ...steady(75, 79, 200, 200),
        ...steady(80, 130, 0, 200),
      ]);
      let previous: FiringRule | null = null;
      const rules: Record<number, string | null> = {};
      const burns: Record<number, [number | null, number | null]> = {};
      for (let m = 0; m <= 130; m += 1) {
        const { state } = judgeAt(m, series, { previousFiring: previous });
        previous = state.firing;
        rules[m] = state.firing?.rule ?? null;
        burns[m] = [
          state.burnRates.rolling_1h ?? null,
          state.burnRates.rolling_5m ?? null,
        ];
      }

      expect(burns[63]?.[0]).to.be.closeTo(40 / 3, 1e-9);
      expect(burns[63]?.[1]).to.equal(160);
      expect(burns[64]?.[0]).to.be.closeTo(50 / 3, 1e-9);
      expect(burns[74]).to.deep.equal([burns[73]?.[0], 0]);
      expect(burns[75]?.[1]).to.equal(40);
      expect(burns[84]?.[0]).to.equal(50);
      expect([rules[59], rules[60], rules[63]]).to.deep.equal([
        null,
        'slo_high_burn',
        'slo_high_burn',
      ]);
      expect([rules[64], rules[73], rules[74]]).to.deep.equal([
        'slo_critical_burn',
        'slo_critical_burn',
        'slo_slow_burn',
      ]);
      expect([rules[75], rules[83], rules[84]]).to.deep.equal([
        'slo_critical_burn',
        'slo_critical_burn',
        'slo_slow_burn',
      ]);
      expect([rules[108], rules[109]]).to.deep.equal(['slo_slow_burn', null]);
    });
  });

  describe('data states', () => {
    it('keeps the previous verdict while the agent is silent', () => {
      const series = seriesOf(steady(0, 59, 0, 200));
      const held = firing('slo_high_burn');

      const { state } = judgeAt(59, series, {
        previousFiring: held,
        lastSeenMs: Date.parse('2026-02-28T00:30:00Z'),
      });

      expect(state.dataState).to.equal('no_data');
      expect(state.firing).to.equal(held);
      expect(state.burnRates.rolling_5m).to.equal(0);
    });

    it('clears a held rule once a window with events is below it', () => {
      const series = seriesOf(steady(0, 59, 0, 200));

      const { state } = judgeAt(59, series, {
        previousFiring: firing('slo_high_burn'),
      });

      expect(state.firing).to.equal(null);
    });

    it('reports budget left over the period', () => {
      const series = seriesOf([[0, 1, 1000]]);

      const { state } = judgeAt(10, series);

      expect(state.budgetRemainingRatio).to.be.closeTo(0.8, 1e-12);
      expect(state.slo).to.deep.equal({
        name: 'ollama_availability',
        targetPercent: 99.5,
      });
    });
  });
});

function firing(rule: string): FiringRule {
  return {
    rule,
    severity: 'SEV2',
    burnRate: 3.2,
    window: 'rolling_1h',
    shortBurnRate: 3.2,
    shortWindow: 'rolling_5m',
    threshold: 3,
  };
}

function withTicketRule(): SloDefinition['rules'] {
  return [
    ...defaultSlo().rules,
    {
      name: 'ticket_slow',
      severity: 'SEV4',
      thresholdMicros: 1_000_000,
      longWindowMs: 3 * 86_400_000,
      shortWindowMs: 6 * 3_600_000,
      longWindow: 'rolling_3d',
      shortWindow: 'rolling_6h',
    },
  ];
}
