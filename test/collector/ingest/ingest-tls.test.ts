import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { createLinkClient } from '../../../agent/src/link/link-client.ts';
import type { LinkClient } from '../../../agent/src/link/link-client.ts';
import { createSystemClock } from '../../../shared/src/clock.ts';
import { ConfigError } from '../../../shared/src/errors.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';
import {
  sliPayload,
  startTestIngest,
  tempDir,
  testLinkConfig,
  waitUntil,
  writeToken,
} from '../../support/link-harness.ts';
import type { TestIngest } from '../../support/link-harness.ts';

/** A throwaway CA, a server certificate for 127.0.0.1 and a client one. */
function makeCertificates(dir: string): void {
  const ssl = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const key = [
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
  ];
  ssl(
    'req',
    '-x509',
    ...key,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=gpuwarden-test-ca',
  );
  writeFileSync(
    path.join(dir, 'san.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\n',
  );
  for (const name of ['server', 'client']) {
    ssl(
      'req',
      ...key,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    );
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      'san.ext',
    );
  }
}

describe('ingest transport security', function () {
  this.timeout(30_000);
  let dir: string;
  let ingest: TestIngest;
  let token: ReturnType<typeof writeToken>;
  const clients: LinkClient[] = [];

  before(async () => {
    dir = tempDir();
    makeCertificates(dir);
    token = writeToken(dir, 'jasper');
    ingest = await startTestIngest(dir, {
      tokens: [{ node: 'jasper', tokenSha256: token.tokenSha256 }],
      tls: {
        certFile: path.join(dir, 'server.pem'),
        keyFile: path.join(dir, 'server.key'),
        clientCaFile: path.join(dir, 'ca.pem'),
        requireClientCert: true,
      },
    });
  });

  after(async () => {
    for (const client of clients) await client.stop();
    await ingest.server.close();
  });

  function client(tls: {
    certFile: string | null;
    keyFile: string | null;
  }): LinkClient {
    const config = {
      ...testLinkConfig(
        ingest.address.replace('127.0.0.1', 'localhost'),
        token.file,
      ),
      tls: { caFile: path.join(dir, 'ca.pem'), serverName: null, ...tls },
    };
    const created = createLinkClient(
      {
        node: 'jasper',
        agentVersion: '0.1.0',
        stateDir: path.join(dir, `agent-${clients.length}`),
        config,
      },
      {
        clock: createSystemClock(),
        fs: createNodeFs(),
        logger: createMemoryLogger().logger,
      },
    );
    clients.push(created);
    return created;
  }

  it('streams over mutual TLS', async () => {
    const agent = client({
      certFile: path.join(dir, 'client.pem'),
      keyFile: path.join(dir, 'client.key'),
    });
    await agent.start();

    agent.send(sliPayload(1));
    await waitUntil(() => agent.status().lastAckedSeq === 1, 'ack over TLS');

    expect(ingest.applied.map((m) => m.seq)).to.deep.equal([1]);
  });

  it('refuses an agent without a client certificate', async () => {
    const agent = client({ certFile: null, keyFile: null });
    await agent.start();
    agent.send(sliPayload(1));

    await waitUntil(() => agent.status().lastError !== null, 'an error');

    expect(agent.status().connected).to.equal(false);
    expect(agent.status().lastError).to.match(
      /^collector unavailable at localhost:\d+/,
    );
  });

  it('refuses plaintext on a non-loopback address unless told so', async () => {
    const attempt = startTestIngest(tempDir(), {
      listen: { host: '0.0.0.0', port: 0 },
    });

    const error = await attempt.then(
      () => null,
      (e: unknown) => e,
    );

    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.match(
      /ingest.tls is required to listen on 0.0.0.0 \(not loopback\)/,
    );
  });
});
