import http2 from 'node:http2';
import type { Settings } from 'node:http2';
import { expect } from 'chai';
import { setFlowControlWindow } from '../../../collector/src/ingest/flow-window.ts';
import { startTestIngest, tempDir } from '../../support/link-harness.ts';

/**
 * What the server at `address` grants a new connection: the stream window
 * it announces and the connection window it opens.
 */
async function granted(
  address: string,
): Promise<{ settings: Settings; connectionWindow: number | undefined }> {
  const session = http2.connect(`http://${address}`);
  try {
    const settings = await new Promise<Settings>((resolve, reject) => {
      session.once('remoteSettings', resolve);
      session.once('error', reject);
    });
    // The connection's WINDOW_UPDATE follows the settings.
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { settings, connectionWindow: session.state.remoteWindowSize };
  } finally {
    session.close();
  }
}

describe('ingest HTTP/2 flow-control window', function () {
  this.timeout(20_000);

  it('announces the configured window to agents', async () => {
    const ingest = await startTestIngest(tempDir(), {
      flowControlWindowBytes: 2 * 1024 * 1024,
    });
    try {
      const { settings, connectionWindow } = await granted(ingest.address);
      expect(settings.initialWindowSize).to.equal(2 * 1024 * 1024);
      expect(connectionWindow).to.equal(2 * 1024 * 1024);
    } finally {
      await ingest.server.close();
    }
  });

  it('says so when the gRPC server has no HTTP/2 servers to size', () => {
    expect(setFlowControlWindow({}, 1024 * 1024)).to.equal(false);
    expect(setFlowControlWindow({ http2Servers: new Map() }, 1024)).to.equal(
      false,
    );
  });
});
