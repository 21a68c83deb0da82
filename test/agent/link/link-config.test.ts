import { expect } from 'chai';
import { parseLinkConfig } from '../../../agent/src/link/link-config.ts';
import { ConfigNode } from '../../../shared/src/config.ts';

const parse = (data: unknown) =>
  parseLinkConfig(new ConfigNode(data, 'collector'), '/etc/gpuwarden');

describe('parseLinkConfig()', () => {
  it('fills defaults and resolves paths against the config folder', () => {
    expect(parse({ tokenFile: 'agent.token' })).to.deep.equal({
      address: '127.0.0.1:7410',
      tokenFile: '/etc/gpuwarden/agent.token',
      tls: null,
      insecure: false,
      outbox: {
        dir: null,
        maxBytes: 256 * 1024 * 1024,
        memoryMaxBytes: 16 * 1024 * 1024,
        thinIntervalMs: 10_000,
      },
      reconnect: { initialMs: 1000, maxMs: 60_000 },
      ackTimeoutMs: 30_000,
    });
  });

  it('refuses plaintext to a collector off loopback unless insecure is set', () => {
    expect(() =>
      parse({ address: 'collector.lan:7410', tokenFile: 't' }),
    ).to.throw(
      /collector.tls is required for a collector that is not on loopback/,
    );
    expect(
      parse({ address: 'collector.lan:7410', tokenFile: 't', insecure: true })
        .insecure,
    ).to.equal(true);
  });

  it('reads mutual TLS and wants certFile and keyFile together', () => {
    const config = parse({
      address: 'c:1',
      tokenFile: 't',
      tls: { caFile: 'ca.pem', certFile: 'a.pem', keyFile: 'a.key' },
    });

    expect(config.tls).to.deep.equal({
      caFile: '/etc/gpuwarden/ca.pem',
      certFile: '/etc/gpuwarden/a.pem',
      keyFile: '/etc/gpuwarden/a.key',
      serverName: null,
    });
    expect(() =>
      parse({ address: 'c:1', tokenFile: 't', tls: { certFile: 'a.pem' } }),
    ).to.throw(/collector.tls.keyFile must be set together/);
  });

  it('needs a token file', () => {
    expect(() => parse({})).to.throw(
      /collector.tokenFile must be a non-empty string/,
    );
  });
});
