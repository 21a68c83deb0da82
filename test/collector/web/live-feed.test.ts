import { expect } from 'chai';
import { WebSocket } from 'ws';
import { createSystemClock } from '../../../shared/src/clock.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import { startWebServer } from '../../../collector/src/web/web-server.ts';
import type { WebServer } from '../../../collector/src/web/web-server.ts';
import { createMemorySources, jasperNode } from './web-fixtures.ts';

describe('live feed', () => {
  let server: WebServer;

  afterEach(() => server.close());

  it('coalesces changes for a client that does not read, instead of queueing them', async function () {
    this.timeout(15_000);
    const sources = createMemorySources();
    // About 4 MiB of state per push: far more than the socket buffers.
    sources.nodeList = Array.from({ length: 1500 }, (_, i) => ({
      ...jasperNode(),
      node: `node-${i}`,
    }));
    server = await startWebServer(
      {
        listen: '127.0.0.1:0',
        tokenFile: null,
        perProcessMetrics: false,
        maxPushesPerSecond: 10,
      },
      {
        sources,
        clock: createSystemClock(),
        logger: createSilentLogger(),
        token: null,
      },
    );
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/live`, {
      maxPayload: 64 * 1024 * 1024,
    });
    let received = 0;
    ws.on('message', () => (received += 1));
    await new Promise((resolve) => ws.once('open', resolve));

    // The client stops reading while twenty changes happen over two seconds.
    const socket = (
      ws as unknown as { _socket: { pause(): void; resume(): void } }
    )._socket;
    socket.pause();
    for (let i = 0; i < 20; i += 1) {
      sources.emit('nodes');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    socket.resume();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    ws.close();

    // Without backpressure the server would have queued 1 + 20 pushes.
    expect(received).to.be.at.least(2);
    expect(received).to.be.below(8);
  });
});
