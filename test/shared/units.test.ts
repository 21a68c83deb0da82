import { expect } from 'chai';
import {
  formatBytes,
  formatDurationShort,
  formatDurationWords,
  parseBytes,
  parseDuration,
} from '../../shared/src/units.ts';

describe('units', () => {
  describe('parseBytes()', () => {
    it('reads binary and decimal suffixes with their own meaning', () => {
      expect(parseBytes('20GiB')).to.equal(20 * 2 ** 30);
      expect(parseBytes('3 GB')).to.equal(3e9);
      expect(parseBytes('512MiB')).to.equal(512 * 2 ** 20);
      expect(parseBytes('1024')).to.equal(1024);
    });

    it('returns null for text that is not a size', () => {
      expect(parseBytes('lots')).to.equal(null);
      expect(parseBytes('20 GiBs')).to.equal(null);
      expect(parseBytes('-1GiB')).to.equal(null);
    });
  });

  describe('parseDuration()', () => {
    it('reads single and compound durations into milliseconds', () => {
      expect(parseDuration('10s')).to.equal(10_000);
      expect(parseDuration('5m')).to.equal(300_000);
      expect(parseDuration('1h30m')).to.equal(5_400_000);
      expect(parseDuration('250ms')).to.equal(250);
      expect(parseDuration('1.5s')).to.equal(1500);
    });

    it('returns null for text that is not a duration', () => {
      expect(parseDuration('soon')).to.equal(null);
      expect(parseDuration('10 s x')).to.equal(null);
      expect(parseDuration('')).to.equal(null);
    });
  });

  describe('formatting', () => {
    it('formats bytes for people and null as n/a', () => {
      expect(formatBytes(3 * 2 ** 30)).to.equal('3.0 GiB');
      expect(formatBytes(512 * 2 ** 20)).to.equal('512 MiB');
      expect(formatBytes(null)).to.equal('n/a');
    });

    it('writes durations as a person does', () => {
      expect(formatDurationWords(13 * 60_000)).to.equal('13 minutes');
      expect(formatDurationWords(60_000)).to.equal('1 minute');
      expect(formatDurationWords(65 * 60_000)).to.equal('1 hour 5 minutes');
      expect(formatDurationShort(3_900_000)).to.equal('1h5m');
    });
  });
});
