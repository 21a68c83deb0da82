import { expect } from 'chai';
import {
  budgetRemainingRatio,
  burnAtLeast,
  burnRate,
} from '../../../collector/src/slo/burn-rate.ts';
import { parseScaledDecimal } from '../../../collector/src/slo/decimal.ts';

describe('burn-rate', () => {
  describe('burnAtLeast()', () => {
    it('decides an exact tie where floating point would not', () => {
      const budgetPpm = 1_000_000 - parseScaledDecimal('99.9', 4)!;

      const exact = burnAtLeast(100_000 - 1440, 100_000, budgetPpm, 14_400_000);

      expect(0.0144 / (1 - 0.999)).to.be.below(14.4);
      expect(exact).to.equal(true);
      expect(
        burnAtLeast(100_000 - 1439, 100_000, budgetPpm, 14_400_000),
      ).to.equal(false);
    });

    it('never matches an empty window', () => {
      expect(burnAtLeast(0, 0, 5000, 1)).to.equal(false);
    });

    it('stays exact with counts beyond 2^53 when multiplied', () => {
      const total = 4_000_000_000;

      expect(burnAtLeast(total - 60_000_000, total, 5000, 3_000_000)).to.equal(
        true,
      );
      expect(burnAtLeast(total - 59_999_999, total, 5000, 3_000_000)).to.equal(
        false,
      );
    });
  });

  describe('burnRate()', () => {
    it('is null, never NaN or Infinity, for an empty window', () => {
      expect(burnRate(0, 0, 5000)).to.equal(null);
      expect(budgetRemainingRatio(0, 0, 5000)).to.equal(null);
    });

    it('divides the error ratio by the budget', () => {
      expect(burnRate(11_808, 12_000, 5000)).to.be.closeTo(3.2, 1e-12);
      expect(budgetRemainingRatio(999, 1000, 5000)).to.be.closeTo(0.8, 1e-12);
    });
  });

  describe('parseScaledDecimal()', () => {
    it('reads decimals exactly into scaled integers', () => {
      expect(parseScaledDecimal(99.5, 4)).to.equal(995_000);
      expect(parseScaledDecimal('99.9', 4)).to.equal(999_000);
      expect(parseScaledDecimal(14.4, 6)).to.equal(14_400_000);
      expect(parseScaledDecimal('0.933', 6)).to.equal(933_000);
    });

    it('refuses what it cannot hold exactly', () => {
      expect(parseScaledDecimal('99.12345', 4)).to.equal(null);
      expect(parseScaledDecimal('-1', 4)).to.equal(null);
      expect(parseScaledDecimal(1e-7, 6)).to.equal(null);
      expect(parseScaledDecimal('abc', 4)).to.equal(null);
    });
  });
});
