import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../../shared/src/errors.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { linkChannel } from '../../../agent/src/link/link-credentials.ts';
import { parseLinkConfig } from '../../../agent/src/link/link-config.ts';
import type { LinkConfig } from '../../../agent/src/link/link-config.ts';
import { ConfigNode } from '../../../shared/src/config.ts';

function config(tls: Record<string, string>): LinkConfig {
  const node = new ConfigNode(
    { address: 'collector.example:7410', tokenFile: '/dev/null', tls },
    'collector',
  );
  return parseLinkConfig(node);
}

describe('linkChannel()', () => {
  it('names the setting of a TLS file it cannot read', async () => {
    const missing = '/nonexistent/collector-ca.pem';

    const error = await linkChannel(
      config({ caFile: missing }),
      createNodeFs(),
    ).then(
      () => null,
      (e: unknown) => e,
    );

    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.equal(
      `collector.tls.caFile must name a readable PEM file, got "${missing} (ENOENT)"`,
    );
  });

  it('builds TLS credentials from readable files', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-cred-'));
    const ca = path.join(dir, 'ca.pem');
    writeFileSync(
      ca,
      '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    );

    const channel = await linkChannel(
      config({ caFile: ca, serverName: 'collector' }),
      createNodeFs(),
    );

    expect(channel.options['grpc.ssl_target_name_override']).to.equal(
      'collector',
    );
    expect(channel.credentials._isSecure()).to.equal(true);
  });
});
