import { expect } from 'chai';
import { planThinning } from '../../../agent/src/link/thinning.ts';

function snapshots(count: number, everyMs: number) {
  return Array.from({ length: count }, (_, i) => ({
    seq: i + 1,
    kind: 'snapshot',
    atMs: i * everyMs,
    sizeBytes: 100,
  }));
}

describe('planThinning()', () => {
  it('drops nothing when the entries fit', () => {
    expect(planThinning(snapshots(10, 1000), 1000, 10_000).size).to.equal(0);
  });

  it('keeps one snapshot per interval', () => {
    const drop = planThinning(snapshots(30, 1000), 1000, 10_000);

    expect(
      [...Array(30).keys()].map((i) => i + 1).filter((seq) => !drop.has(seq)),
    ).to.deep.equal([1, 11, 21, 30]);
  });

  it('doubles the interval until the entries fit', () => {
    const drop = planThinning(snapshots(100, 1000), 400, 10_000);

    expect(100 - drop.size).to.be.at.most(4);
    expect(drop.has(100)).to.equal(false);
  });

  it('never drops SLI, guard or health events', () => {
    const entries = [
      ...snapshots(5, 1000),
      { seq: 6, kind: 'sli', atMs: 0, sizeBytes: 1000 },
      { seq: 7, kind: 'guard', atMs: 0, sizeBytes: 1000 },
      { seq: 8, kind: 'health', atMs: 0, sizeBytes: 1000 },
    ];

    const drop = planThinning(entries, 100, 10_000);

    expect([...drop].sort()).to.deep.equal([1, 2, 3, 4]);
  });
});
