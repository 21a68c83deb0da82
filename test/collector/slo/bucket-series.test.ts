import { expect } from 'chai';
import { BucketSeries } from '../../../collector/src/slo/bucket-series.ts';

describe('BucketSeries', () => {
  describe('window()', () => {
    it('sums the buckets of a window ending at any bucket', () => {
      const series = new BucketSeries(60_000, 61);
      for (let i = 100; i < 160; i += 1) series.add(i, i % 2, 1);

      expect(series.window(159, 5)).to.deep.equal({
        good: 3,
        total: 5,
        coveredBuckets: 5,
      });
      expect(series.window(159, 60).total).to.equal(60);
      expect(series.window(150, 10).total).to.equal(10);
    });

    it('counts coverage only from the first bucket with data', () => {
      const series = new BucketSeries(60_000, 61);
      series.add(100, 1, 1);

      expect(series.window(109, 60)).to.deep.equal({
        good: 1,
        total: 1,
        coveredBuckets: 10,
      });
    });

    it('forgets buckets that leave the ring', () => {
      const series = new BucketSeries(60_000, 11);
      series.add(0, 5, 5);
      series.add(10, 1, 1);

      series.add(25, 2, 2);

      expect(series.window(25, 10).total).to.equal(2);
      expect(series.add(10, 1, 1)).to.equal('too_old');
    });
  });

  describe('add()', () => {
    it('adds a late event to its own bucket', () => {
      const series = new BucketSeries(60_000, 61);
      series.add(100, 10, 10);
      series.add(110, 10, 10);

      series.add(95, 0, 4);

      expect(series.window(110, 1).total).to.equal(10);
      expect(series.window(100, 6)).to.deep.equal({
        good: 10,
        total: 14,
        coveredBuckets: 6,
      });
      expect(series.firstIndex()).to.equal(95);
    });
  });

  describe('toJSON() / fromJSON()', () => {
    it('round-trips every window', () => {
      const series = new BucketSeries(60_000, 61);
      for (let i = 0; i < 200; i += 3) series.add(i, i % 5, 7);

      const copy = BucketSeries.fromJSON(series.toJSON()!, 61);

      for (const span of [1, 5, 30, 60]) {
        expect(copy.window(199, span)).to.deep.equal(series.window(199, span));
      }
      expect(copy.firstIndex()).to.equal(0);
      expect(copy.headIndex()).to.equal(198);
    });
  });
});
