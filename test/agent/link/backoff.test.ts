import { expect } from 'chai';
import { backoffDelayMs } from '../../../agent/src/link/backoff.ts';

const options = { initialMs: 1000, maxMs: 60_000 };

describe('backoffDelayMs()', () => {
  it('doubles the cap per attempt and waits between half and all of it', () => {
    expect(backoffDelayMs(0, options, () => 0)).to.equal(500);
    expect(backoffDelayMs(0, options, () => 0.999999)).to.equal(1000);
    expect(backoffDelayMs(3, options, () => 0)).to.equal(4000);
  });

  it('never exceeds the maximum', () => {
    expect(backoffDelayMs(50, options, () => 0.999999)).to.equal(60_000);
  });
});
