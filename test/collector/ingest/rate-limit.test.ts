import { expect } from 'chai';
import { TokenBucket } from '../../../collector/src/ingest/rate-limit.ts';

describe('TokenBucket', () => {
  it('allows the burst, then asks to wait for the refill', () => {
    const bucket = new TokenBucket(
      { messagesPerSecond: 100, burstMessages: 50 },
      0,
    );

    expect(bucket.take(50, 0)).to.equal(0);
    expect(bucket.take(10, 0)).to.equal(100);
    expect(bucket.take(0, 200)).to.equal(0);
  });
});
