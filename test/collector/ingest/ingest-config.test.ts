import { expect } from 'chai';
import {
  isLoopbackHost,
  parseIngestConfig,
  resolveIngestPaths,
} from '../../../collector/src/ingest/ingest-config.ts';
import { ConfigNode } from '../../../shared/src/config.ts';

const parse = (data: unknown) =>
  parseIngestConfig(new ConfigNode(data, 'ingest'));

describe('parseIngestConfig()', () => {
  it('defaults to loopback, no TLS, 4 MiB frames and a bounded journal', () => {
    const config = parse({});

    expect(config).to.deep.equal({
      listen: { host: '127.0.0.1', port: 7410 },
      tls: null,
      allowPlaintext: false,
      tokensFile: null,
      maxMessageBytes: 4 * 1024 * 1024,
      flowControlWindowBytes: 1024 * 1024,
      rateLimit: { messagesPerSecond: 1000, burstMessages: 20000 },
      journal: {
        dir: null,
        segmentBytes: 64 * 1024 * 1024,
        maxBytes: 1024 * 1024 * 1024,
      },
    });
    expect(resolveIngestPaths(config, '/srv/gw')).to.deep.equal({
      tokensFile: '/srv/gw/agent-tokens',
      journalDir: '/srv/gw/ingest-journal',
    });
  });

  it('reads TLS with a client CA as mutual TLS', () => {
    const config = parse({
      listen: '[::]:7410',
      tls: { certFile: 'c.pem', keyFile: 'k.pem', clientCaFile: 'ca.pem' },
    });

    expect(config.listen).to.deep.equal({ host: '::', port: 7410 });
    expect(config.tls).to.deep.equal({
      certFile: 'c.pem',
      keyFile: 'k.pem',
      clientCaFile: 'ca.pem',
      requireClientCert: true,
    });
  });

  it('names the field of a bad value', () => {
    expect(() => parse({ listen: 'nowhere' })).to.throw(
      /ingest.listen must be host:port/,
    );
    expect(() => parse({ maxMessageBytes: '10KiB' })).to.throw(
      /ingest.maxMessageBytes must be at least 1MiB/,
    );
    expect(() => parse({ flowControlWindow: '16KiB' })).to.throw(
      /ingest.flowControlWindow must be between 64KiB and 256MiB/,
    );
    expect(() => parse({ tls: { certFile: 'c' } })).to.throw(
      /ingest.tls.keyFile/,
    );
    expect(() => parse({ tokenFile: 'x' })).to.throw(
      /ingest.tokenFile is not a known setting/,
    );
  });
});

describe('isLoopbackHost()', () => {
  it('tells loopback addresses from others', () => {
    expect(
      ['127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(isLoopbackHost),
    ).to.deep.equal([true, true, true, true]);
    expect(
      ['0.0.0.0', '::', '10.0.0.5', 'collector.lan'].map(isLoopbackHost),
    ).to.deep.equal([false, false, false, false]);
  });
});
