import { expect } from 'chai';
import { chooseVictims } from '../../../agent/src/guard/victims.ts';
import type { Candidate } from '../../../agent/src/guard/types.ts';

function cand(
  pid: number,
  mib: number,
  culprit = false,
  start = pid,
): Candidate {
  return {
    process: {
      pid,
      name: 'p',
      type: 'compute',
      usedBytes: mib,
      user: 'dev',
      command: null,
      startedAt: null,
    },
    usedBytes: mib,
    startTimeTicks: start,
    culprit,
    respawnKey: String(pid),
  };
}

describe('chooseVictims()', () => {
  it('prefers a newcomer over an older process of the same count', () => {
    const plan = chooseVictims([cand(1, 4000), cand(2, 3000, true)], {
      deficitBytes: 2000,
      needBytes: 2500,
      allowPartialRelief: false,
    });

    expect(plan.victims.map((v) => v.process.pid)).to.deep.equal([2]);
  });

  it('does not take more newcomers than the fewest processes needed', () => {
    const plan = chooseVictims(
      [cand(1, 4000), cand(2, 1500, true), cand(3, 1500, true)],
      { deficitBytes: 2000, needBytes: 2500, allowPartialRelief: false },
    );

    expect(plan.victims.map((v) => v.process.pid)).to.deep.equal([1]);
  });

  it('aims at the deficit alone when the minimum reclaim cannot be had', () => {
    const plan = chooseVictims([cand(1, 900), cand(2, 300)], {
      deficitBytes: 1000,
      needBytes: 1500,
      allowPartialRelief: false,
    });

    expect(plan.goalBytes).to.equal(1000);
    expect(plan.victims.map((v) => v.process.pid)).to.deep.equal([1, 2]);
  });

  it('picks the newest of equal sizes', () => {
    const plan = chooseVictims(
      [cand(1, 2000, false, 10), cand(2, 2000, false, 20)],
      { deficitBytes: 1000, needBytes: 1500, allowPartialRelief: false },
    );

    expect(plan.victims.map((v) => v.process.pid)).to.deep.equal([2]);
  });

  it('chooses nobody when the reservation is met', () => {
    expect(
      chooseVictims([cand(1, 2000)], {
        deficitBytes: 0,
        needBytes: 512,
        allowPartialRelief: false,
      }).victims,
    ).to.deep.equal([]);
  });
});
