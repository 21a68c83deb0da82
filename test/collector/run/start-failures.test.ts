import { expect } from 'chai';
import net from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCollectorConfig } from '../../../collector/src/config.ts';
import type { CollectorConfig } from '../../../collector/src/config.ts';
import { startCollectorService } from '../../../collector/src/run/collector-service.ts';
import { createSystemClock } from '../../../shared/src/clock.ts';
import {
  ConfigError,
  GpuwardenError,
  exitCodeFor,
} from '../../../shared/src/errors.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import { createServiceFixture } from './service-harness.ts';
import type { ServiceFixture } from './service-harness.ts';

describe('startCollectorService() failures', () => {
  let fixture: ServiceFixture;
  let holder: net.Server;
  let heldPort: number;

  before(async () => {
    fixture = await createServiceFixture();
    holder = net.createServer();
    await new Promise<void>((resolve) =>
      holder.listen(0, '127.0.0.1', () => resolve()),
    );
    heldPort = (holder.address() as net.AddressInfo).port;
  });

  after(async () => {
    await new Promise((resolve) => holder.close(resolve));
    await fixture.remove();
  });

  const variant = (changes: Record<string, unknown>): CollectorConfig =>
    parseCollectorConfig(
      { ...fixture.raw, ...changes },
      'test config',
      fixture.dir,
    );

  const startFails = async (config: CollectorConfig): Promise<Error> => {
    try {
      const service = await startCollectorService(config, {
        clock: createSystemClock(),
        logger: createSilentLogger(),
        fs: createNodeFs(),
      });
      await service.stop();
    } catch (error) {
      return error as Error;
    }
    throw new Error('the service started');
  };

  it('names the ingest address when its port is in use (exit 1)', async () => {
    const error = await startFails(
      variant({ ingest: { listen: `127.0.0.1:${heldPort}` } }),
    );

    expect(error).to.be.instanceOf(GpuwardenError);
    expect(exitCodeFor(error)).to.equal(1);
    expect(error.message).to.equal(
      `cannot listen for agents on 127.0.0.1:${heldPort}: the port is in use by another program (EADDRINUSE); stop it, or set ingest.listen to a free address`,
    );
  });

  it('names the dashboard address when its port is in use (exit 1)', async () => {
    const web = { listen: `127.0.0.1:${heldPort}` };
    const error = await startFails(variant({ web }));

    expect(exitCodeFor(error)).to.equal(1);
    expect(error.message).to.contain(`dashboard on 127.0.0.1:${heldPort}`);
    expect(error.message).to.contain('web.listen');
  });

  it('can start again on the same data dir after a failed start', async () => {
    await startFails(variant({ web: { listen: `127.0.0.1:${heldPort}` } }));
    const service = await startCollectorService(fixture.config, {
      clock: createSystemClock(),
      logger: createSilentLogger(),
      fs: createNodeFs(),
    });

    await service.stop();
    expect(service.webUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses a second collector on the same data dir until the first stops', async () => {
    const deps = {
      clock: createSystemClock(),
      logger: createSilentLogger(),
      fs: createNodeFs(),
    };
    const first = await startCollectorService(fixture.config, deps);
    let error: Error;
    try {
      error = await startFails(fixture.config);
    } finally {
      await first.stop();
    }
    const again = await startCollectorService(fixture.config, deps);
    await again.stop();

    expect(exitCodeFor(error)).to.equal(1);
    expect(error.message).to.equal(
      `another gpuwarden collector (pid ${process.pid}) is using ${fixture.dataDir}; stop it, or give this one another dataDir`,
    );
    expect(again.dataDir).to.equal(fixture.dataDir);
  });

  it('refuses a data dir that is not writable (exit 1)', async () => {
    const file = path.join(fixture.dir, 'plain-file');
    await writeFile(file, 'not a directory');
    const error = await startFails(
      variant({ dataDir: path.join(file, 'data') }),
    );

    expect(exitCodeFor(error)).to.equal(1);
    expect(error.message).to.match(
      /^data directory .*plain-file\/data is not writable \(ENOTDIR\); /,
    );
  });

  it('refuses plaintext ingest off loopback before listening (exit 2)', async () => {
    const error = await startFails(
      variant({ ingest: { listen: '0.0.0.0:0' } }),
    );

    expect(error).to.be.instanceOf(ConfigError);
    expect(exitCodeFor(error)).to.equal(2);
    expect(error.message).to.contain('ingest.tls is required');
  });

  it('refuses a dashboard off loopback without a web token (exit 2)', async () => {
    const error = await startFails(variant({ web: { listen: '0.0.0.0:0' } }));

    expect(error).to.be.instanceOf(ConfigError);
    expect(error.message).to.contain('web.tokenFile must be set');
  });

  it('refuses an empty web token file (exit 2)', async () => {
    const tokenFile = path.join(fixture.dir, 'empty.token');
    await writeFile(tokenFile, '\n');
    const web = { listen: '127.0.0.1:0', tokenFile };
    const error = await startFails(variant({ web }));

    expect(exitCodeFor(error)).to.equal(2);
    expect(error.message).to.contain('it is empty');
  });

  it('names a missing TLS file as a config error (exit 2)', async () => {
    const certFile = path.join(fixture.dir, 'missing.crt');
    const tls = { certFile, keyFile: path.join(fixture.dir, 'missing.key') };
    const error = await startFails(
      variant({ ingest: { listen: '127.0.0.1:0', tls } }),
    );

    expect(exitCodeFor(error)).to.equal(2);
    expect(error.message).to.equal(
      `ingest.tls must name readable PEM files, got "${certFile} (ENOENT)"`,
    );
  });
});
