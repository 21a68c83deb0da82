import { expect } from 'chai';
import { parseGoDurationMs } from '../../../agent/src/ollama/go-duration.ts';

describe('parseGoDurationMs()', () => {
  const cases: [string, number][] = [
    ['0s', 0],
    ['850ns', 0.00085],
    ['41.512µs', 0.041512],
    ['41.512μs', 0.041512],
    ['41us', 0.041],
    ['3.141592ms', 3.141592],
    ['2.305118442s', 2305.118442],
    ['13m1s', 781_000],
    ['1m2.5s', 62_500],
    ['2h3m4s', 7_384_000],
  ];
  for (const [text, ms] of cases) {
    it(`reads ${text} as ${ms} ms`, () => {
      expect(parseGoDurationMs(text)).to.be.closeTo(ms, 1e-9);
    });
  }

  it('reads padded text as Gin right-aligns it', () => {
    expect(parseGoDurationMs('         13m1s')).to.equal(781_000);
  });

  for (const bad of ['', 's', '12 parsecs', '-1s', '1.5', '1ms2', '1d']) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      expect(parseGoDurationMs(bad)).to.equal(null);
    });
  }
});
