import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  judgeRequest,
  parseGinLine,
} from '../../../agent/src/ollama/gin-line.ts';
import type { GinRequest } from '../../../agent/src/ollama/gin-line.ts';
import { createLocalToUtc } from '../../../agent/src/ollama/zoned-time.ts';

const fixture = (name: string): string[] =>
  readFileSync(
    new URL(`../../fixtures/ollama/${name}`, import.meta.url),
    'utf8',
  )
    .split('\n')
    .filter((line, i, all) => i < all.length - 1 || line !== '');

const berlin = createLocalToUtc('Europe/Berlin');

function request(line: string): GinRequest {
  const parsed = parseGinLine(line, berlin);
  if (parsed.kind !== 'request') throw new Error(`not read: ${line}`);
  return parsed.request;
}

describe('parseGinLine()', () => {
  // status, latency ms, ip, method, path, verdict, local time (CET = UTC+1)
  const expected: [number, number, string, string, string, string, string][] = [
    [200, 0, '127.0.0.1', 'HEAD', '/', 'excluded', '13:01:07'],
    [200, 0.041512, '127.0.0.1', 'GET', '/api/version', 'excluded', '13:01:07'],
    [200, 0.612304, '127.0.0.1', 'GET', '/api/ps', 'excluded', '13:01:09'],
    [200, 3.141592, '172.18.0.5', 'GET', '/api/tags', 'excluded', '13:01:12'],
    [
      200,
      412.87133,
      '127.0.0.1',
      'POST',
      '/api/generate',
      'served',
      '13:01:13',
    ],
    [200, 2305.118442, '10.0.4.21', 'POST', '/api/chat', 'served', '13:02:40'],
    [
      200,
      14760.905113,
      '10.0.4.21',
      'POST',
      '/v1/chat/completions',
      'served',
      '13:03:55',
    ],
    [200, 781_000, '10.0.4.21', 'POST', '/api/chat', 'served', '13:17:21'],
    [
      404,
      1.203611,
      '10.0.4.22',
      'POST',
      '/api/generate',
      'client_error',
      '13:17:30',
    ],
    [
      400,
      0.08812,
      '10.0.4.22',
      'POST',
      '/api/chat',
      'client_error',
      '13:17:33',
    ],
    [
      500,
      31204.551902,
      '127.0.0.1',
      'POST',
      '/api/generate',
      'failed',
      '13:18:02',
    ],
    [503, 0.0773, '10.0.4.23', 'POST', '/api/chat', 'failed', '13:18:40'],
    [499, 5002.11873, '10.0.4.23', 'POST', '/api/chat', 'failed', '13:19:12'],
    [204, 0.014066, '::1', 'OPTIONS', '/api/generate', 'excluded', '13:20:00'],
    [
      200,
      7_384_000,
      '10.0.4.21',
      'POST',
      '/api/generate',
      'served',
      '14:40:02',
    ],
  ];

  fixture('gin-lines.txt').forEach((line, i) => {
    const [status, latencyMs, ip, method, path, verdict, utc] = expected[i]!;
    it(`reads research line ${i + 1} (${method} ${path} ${status})`, () => {
      const r = request(line);

      expect(r.status).to.equal(status);
      expect(r.latencyMs).to.be.closeTo(latencyMs, 1e-6);
      expect(r.clientIp).to.equal(ip);
      expect(r.method).to.equal(method);
      expect(r.path).to.equal(path);
      expect(judgeRequest(r)).to.equal(verdict);
      expect(new Date(r.completedAtMs).toISOString()).to.equal(
        `2026-03-02T${utc}.000Z`,
      );
    });
  });

  it('reads every variant: journald prefix, colours, Greek mu, 1m2.5s, query, ns, narrow columns', () => {
    const got = fixture('gin-variants.txt').map((line) => {
      const r = request(line);
      return [r.status, r.latencyMs, r.method, r.path, judgeRequest(r)];
    });

    expect(got).to.deep.equal([
      [200, 2305.118442, 'POST', '/api/chat', 'served'],
      [200, 1500, 'POST', '/api/embed', 'served'],
      [200, 0.041512, 'GET', '/api/version', 'excluded'],
      [200, 62_500, 'POST', '/api/generate', 'served'],
      [200, 250.000001, 'POST', '/api/chat', 'served'],
      [200, 0.00085, 'GET', '/', 'excluded'],
      [200, 1900, 'POST', '/v1/embeddings', 'served'],
    ]);
  });

  it('takes the journal stamp over the local one when given', () => {
    const line = fixture('gin-lines.txt')[5]!;

    const parsed = parseGinLine(line, berlin, 1_772_456_560_123);

    expect(parsed.kind === 'request' && parsed.request.completedAtMs).to.equal(
      1_772_456_560_123,
    );
  });

  it('converts local stamps with the zone in summer time too', () => {
    const line =
      '[GIN] 2026/07/01 - 12:00:00 | 200 |   1ms |  127.0.0.1 | POST     "/api/chat"';

    expect(new Date(request(line).completedAtMs).toISOString()).to.equal(
      '2026-07-01T10:00:00.000Z',
    );
  });

  it('keeps a path holding a bar whole', () => {
    const line =
      '[GIN] 2026/03/02 - 14:01:07 | 200 |   1ms |  127.0.0.1 | GET      "/api/x|y"';

    expect(request(line).path).to.equal('/api/x|y');
  });

  it('calls broken [GIN] lines malformed and other lines not Gin', () => {
    const kinds = fixture('garbage-lines.txt').map(
      (line) => parseGinLine(line, berlin).kind,
    );

    expect(kinds.filter((k) => k === 'malformed')).to.have.length(4);
    expect(kinds.filter((k) => k === 'request')).to.have.length(0);
  });
});
