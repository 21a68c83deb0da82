import { expect } from 'chai';
import fc from 'fast-check';
import { StringTable } from '../../../shared/src/proto/string-table.ts';

function decode(table: StringTable, text: string): string {
  const bytes = Buffer.from(`xx${text}yy`, 'utf8');
  return table.decode(bytes, 2, bytes.length - 2);
}

describe('StringTable', () => {
  it('gives the same text as toString for any string', () => {
    const table = new StringTable(64);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        expect(decode(table, text)).to.equal(text);
        expect(decode(table, text)).to.equal(text);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps invalid UTF-8 as toString renders it', () => {
    const bytes = Buffer.from([0x61, 0xff, 0x62]);

    expect(new StringTable().decode(bytes, 0, 3)).to.equal(
      bytes.toString('utf8'),
    );
  });

  it('hands out the string it decoded before for the same bytes', () => {
    const table = new StringTable();
    const first = decode(table, 'python3 serve.py --shard 3');

    expect(decode(table, 'python3 serve.py --shard 3')).to.equal(first);
    expect(decode(table, 'python3 serve.py --shard 4')).to.equal(
      'python3 serve.py --shard 4',
    );
  });

  it('replaces colliding strings in a full table without mixing them up', () => {
    const table = new StringTable(2);
    const texts = Array.from({ length: 50 }, (_, i) => `user-${i}`);

    for (let round = 0; round < 3; round += 1) {
      for (const text of texts) expect(decode(table, text)).to.equal(text);
    }
  });
});
