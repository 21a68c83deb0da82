import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  classifyLogLine,
  parseJournalEntry,
} from '../../../agent/src/ollama/log-line.ts';
import { createLocalToUtc } from '../../../agent/src/ollama/zoned-time.ts';

const utc = createLocalToUtc('UTC');
const garbage = readFileSync(
  new URL('../../fixtures/ollama/garbage-lines.txt', import.meta.url),
  'utf8',
).split('\n');

describe('classifyLogLine()', () => {
  it('sorts requests, load lines, malformed Gin lines and the rest', () => {
    const kinds = [
      '[GIN] 2026/03/02 - 14:01:13 | 200 | 412.87133ms | 127.0.0.1 | POST     "/api/generate"',
      'load_tensors: offloaded 58/65 layers to GPU',
      '[GIN] 2026/03/02 - 14:01:07 | 200 |',
      'hello',
    ].map((text) => classifyLogLine({ text, stampMs: null }, utc).kind);

    expect(kinds).to.deep.equal(['request', 'load', 'malformed', 'other']);
  });

  it('never throws on garbage and reads none of it as a request', () => {
    const kinds = garbage.map(
      (text) => classifyLogLine({ text, stampMs: null }, utc).kind,
    );

    expect(kinds).to.not.include('request');
    expect(kinds).to.not.include('load');
  });

  it('skips very long lines without reading them', () => {
    const noise = 'x'.repeat(100_000);
    const started = performance.now();

    const kinds = [noise, `[GIN] ${noise}`, `a buffer size = ${noise}`].map(
      (text) => classifyLogLine({ text, stampMs: null }, utc).kind,
    );

    expect(kinds).to.deep.equal(['other', 'malformed', 'other']);
    expect(performance.now() - started).to.be.below(50);
  });

  it('stamps load lines with the journal time when there is one', () => {
    const kind = classifyLogLine(
      { text: 'load_tensors: offloaded 58/65 layers to GPU', stampMs: 1234 },
      utc,
    );

    expect(kind.kind === 'load' && kind.atMs).to.equal(1234);
  });
});

describe('parseJournalEntry()', () => {
  it('reads MESSAGE and the realtime stamp in microseconds', () => {
    const line = parseJournalEntry(
      JSON.stringify({
        MESSAGE: '[GIN] x',
        __REALTIME_TIMESTAMP: '1772456560123456',
        _PID: '1391',
      }),
    );

    expect(line).to.deep.equal({ text: '[GIN] x', stampMs: 1772456560123 });
  });

  it('decodes a MESSAGE journald sent as bytes (colour codes)', () => {
    const bytes = [...Buffer.from('\x1b[97;42m 200 \x1b[0m')];

    const line = parseJournalEntry(JSON.stringify({ MESSAGE: bytes }));

    expect(line).to.deep.equal({
      text: '\x1b[97;42m 200 \x1b[0m',
      stampMs: null,
    });
  });

  it('skips entries that are not JSON objects with a message', () => {
    for (const text of [
      '',
      'nope',
      '[]',
      '42',
      '{"MESSAGE": null}',
      '{"MESSAGE": [300]}',
    ]) {
      expect(parseJournalEntry(text)).to.equal(null);
    }
  });
});
