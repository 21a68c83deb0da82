import { expect } from 'chai';
import {
  decodeSmiBytes,
  parseCelsius,
  parseCount,
  parseMemoryBytes,
  parsePercent,
  parseText,
  parseWatts,
  readStatus,
} from '../../../agent/src/gpu/smi-values.ts';

const MIB = 2 ** 20;

describe('smi-values', () => {
  describe('readStatus()', () => {
    it('maps every spelling of "no value" to a status', () => {
      expect(readStatus('[N/A]')).to.equal('not_available');
      expect(readStatus(' N/A ')).to.equal('not_available');
      expect(readStatus('-')).to.equal('not_available');
      expect(readStatus('[Not Supported]')).to.equal('not_supported');
      expect(readStatus('[Insufficient Permissions]')).to.equal(
        'no_permission',
      );
      expect(readStatus('[Unknown Error]')).to.equal('unknown_error');
      expect(readStatus('ERR!')).to.equal('unknown_error');
      expect(
        readStatus('[Requested functionality has been deprecated]'),
      ).to.equal('deprecated');
      expect(
        readStatus('Requested functionality has been deprecated'),
      ).to.equal('deprecated');
      expect(readStatus('')).to.equal('empty');
      expect(readStatus('Not available in WDDM driver model')).to.equal(
        'not_available',
      );
    });

    it('treats an unknown bracketed text as a status, never a value', () => {
      expect(readStatus('[Some Future Error]')).to.equal('unrecognized');
    });

    it('returns null for values', () => {
      expect(readStatus('2296 MiB')).to.equal(null);
      expect(readStatus('python')).to.equal(null);
    });
  });

  describe('parseMemoryBytes()', () => {
    it('converts MiB with and without the unit to bytes', () => {
      expect(parseMemoryBytes('2296 MiB')).to.deep.equal({
        ok: true,
        value: 2296 * MIB,
      });
      expect(parseMemoryBytes('2296')).to.deep.equal({
        ok: true,
        value: 2296 * MIB,
      });
      expect(parseMemoryBytes(' 81559 MiB ')).to.deep.equal({
        ok: true,
        value: 85_520_809_984,
      });
    });

    it('takes the unit of a header for bare numbers', () => {
      expect(parseMemoryBytes('2', 'GiB')).to.deep.equal({
        ok: true,
        value: 2 * 2 ** 30,
      });
    });

    it('keeps [N/A] as a status, never 0', () => {
      expect(parseMemoryBytes('[N/A]')).to.deep.equal({
        ok: false,
        status: 'not_available',
        raw: '[N/A]',
      });
    });

    it('refuses an unknown unit and a decimal comma', () => {
      expect(parseMemoryBytes('12 MB').ok).to.equal(false);
      expect(parseMemoryBytes('1,5').ok).to.equal(false);
    });
  });

  describe('units', () => {
    it('parses padded percent, watts and degrees', () => {
      expect(parsePercent(' 40 % ')).to.deep.equal({ ok: true, value: 40 });
      expect(parseWatts(' 66.84 W ')).to.deep.equal({ ok: true, value: 66.84 });
      expect(parseCelsius(' 37 C ')).to.deep.equal({ ok: true, value: 37 });
      expect(parseCelsius('-5 C')).to.deep.equal({ ok: true, value: -5 });
    });

    it('parses counts only from digits', () => {
      expect(parseCount('38310')).to.deep.equal({ ok: true, value: 38310 });
      expect(parseCount('[Not Supported]').ok).to.equal(false);
      expect(parseCount('12a').ok).to.equal(false);
    });

    it('turns N/A and empty text into null', () => {
      expect(parseText('N/A')).to.equal(null);
      expect(parseText('')).to.equal(null);
      expect(parseText(' python ')).to.equal('python');
    });
  });

  describe('decodeSmiBytes()', () => {
    it('replaces bytes that are not UTF-8 instead of throwing', () => {
      const bytes = Buffer.from([0x61, 0xf8, 0x62, 0x0d, 0x0a]);

      expect(decodeSmiBytes(bytes)).to.equal('a\uFFFDb\n');
    });

    it('strips CR and a byte-order mark', () => {
      const bytes = Buffer.from('\uFEFFa\r\nb\rc', 'utf8');

      expect(decodeSmiBytes(bytes)).to.equal('a\nb\nc');
    });
  });
});
