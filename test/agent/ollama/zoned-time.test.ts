import { expect } from 'chai';
import {
  createLocalToUtc,
  isKnownTimeZone,
} from '../../../agent/src/ollama/zoned-time.ts';

const at = (h: number, m = 30, month = 3, day = 29) => ({
  year: 2026,
  month,
  day,
  hour: h,
  minute: m,
  second: 0,
});

describe('createLocalToUtc()', () => {
  const berlin = createLocalToUtc('Europe/Berlin');

  it('reads UTC as UTC', () => {
    expect(createLocalToUtc('UTC')(at(14))).to.equal(
      Date.parse('2026-03-29T14:30:00Z'),
    );
  });

  it('applies the winter and summer offsets around the spring change', () => {
    expect(new Date(berlin(at(1))).toISOString()).to.equal(
      '2026-03-29T00:30:00.000Z',
    );
    expect(new Date(berlin(at(3))).toISOString()).to.equal(
      '2026-03-29T01:30:00.000Z',
    );
  });

  it('reads a skipped hour with the offset before the change', () => {
    expect(new Date(berlin(at(2))).toISOString()).to.equal(
      '2026-03-29T01:30:00.000Z',
    );
  });

  it('takes the earlier instant in the repeated autumn hour', () => {
    expect(new Date(berlin(at(2, 30, 10, 25))).toISOString()).to.equal(
      '2026-10-25T00:30:00.000Z',
    );
  });

  it('knows real zones and rejects made-up ones', () => {
    expect(isKnownTimeZone('America/New_York')).to.equal(true);
    expect(isKnownTimeZone('Mars/Olympus')).to.equal(false);
  });
});
