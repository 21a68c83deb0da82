import { expect } from 'chai';
import { isoToMs, msToIso } from '../../../shared/src/proto/wire-values.ts';

/** Times around the edges a fast formatter gets wrong first. */
const EDGES = [
  0,
  1,
  999,
  Date.UTC(1999, 11, 31, 23, 59, 59, 999),
  Date.UTC(2000, 0, 1),
  Date.UTC(2024, 1, 29, 12, 0, 0, 5),
  Date.UTC(2026, 1, 28, 13, 59, 59, 999),
  Date.UTC(2026, 1, 28, 14, 0, 0, 0),
  Date.UTC(2026, 2, 1, 0, 0, 0, 0) - 1,
  Date.UTC(2199, 11, 31, 23, 59, 59, 999),
  Date.UTC(9999, 11, 31, 23, 59, 59, 999),
];

describe('msToIso() and isoToMs()', () => {
  it('write and read times exactly as Date does', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 48271) % 2147483647;
      return seed;
    };
    const times = [
      ...EDGES,
      ...Array.from({ length: 5000 }, () => random() * 1_000_000),
      // Several times of one day in a row, as a snapshot stream has them.
      ...Array.from({ length: 2000 }, (_, i) => 1772287200000 + i * 997),
    ];
    for (const ms of times) {
      const iso = new Date(ms).toISOString();
      expect(msToIso(ms, 'at'), String(ms)).to.equal(iso);
      expect(isoToMs(iso, 'at'), iso).to.equal(ms);
    }
  });

  it('reads texts that are not canonical the way Date.parse does', () => {
    msToIso(Date.UTC(2026, 1, 28, 14), 'at'); // the day is now 2026-02-28
    for (const text of [
      '2026-02-28T14:00:00Z',
      '2026-02-28T14:00:00.000+01:00',
      '2026-02-28T24:00:00.000Z',
      '2026-02-28',
    ]) {
      expect(isoToMs(text, 'at'), text).to.equal(Date.parse(text));
    }
  });

  it('refuses texts that are not times', () => {
    msToIso(Date.UTC(2026, 1, 28, 14), 'at');
    for (const text of [
      '2026-02-28T25:00:00.000Z',
      '2026-02-28T14:60:00.000Z',
      '2026-02-28T1a:00:00.000Z',
      'yesterday',
    ]) {
      expect(() => isoToMs(text, 'takenAt'), text).to.throw(
        /takenAt must be an ISO 8601 time/,
      );
    }
  });

  it('keeps refusing times Date cannot hold', () => {
    expect(() => msToIso(8.64e15 + 1, 'takenAt')).to.throw(
      /takenAt is out of the representable time range/,
    );
    expect(msToIso(-1, 'at')).to.equal(new Date(-1).toISOString());
  });
});
