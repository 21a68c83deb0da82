import http2 from 'node:http2';
import type { Settings } from 'node:http2';
import { Readable } from 'node:stream';
import { Client, credentials, Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { expect } from 'chai';
import {
  limitReadAhead,
  setFlowControlWindow,
} from '../../../collector/src/ingest/flow-window.ts';
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

/**
 * Frames a real grpc-js server stream holds unread after its consumer took
 * the first one and paused, while the client has 40 more on the way.
 */
async function heldWhilePaused(limit: boolean): Promise<number> {
  const same = (bytes: Buffer) => bytes;
  const method = {
    path: '/test.Frames/Stream',
    requestStream: true,
    responseStream: true,
    requestSerialize: same,
    requestDeserialize: same,
    responseSerialize: same,
    responseDeserialize: same,
  };
  const server = new Server();
  const held = new Promise<number>((resolve) => {
    server.addService(
      { Stream: method },
      {
        Stream: (call: ServerDuplexStream<Buffer, Buffer>) => {
          if (limit) limitReadAhead(call);
          call.once('data', () => {
            call.pause();
            setTimeout(() => resolve(call.readableLength), 500);
          });
        },
      },
    );
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      '127.0.0.1:0',
      ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  const call = client.makeBidiStreamRequest(method.path, same, same);
  call.on('error', () => {});
  for (let i = 0; i < 41; i += 1) call.write(Buffer.alloc(1000, i));
  try {
    return await held;
  } finally {
    call.cancel();
    client.close();
    server.forceShutdown();
  }
}

describe('ingest stream read-ahead', function () {
  this.timeout(20_000);

  it('holds at most one frame while a stream is paused', async () => {
    expect(await heldWhilePaused(false)).to.be.greaterThan(1);
    expect(await heldWhilePaused(true)).to.be.at.most(1);
  });

  it('says so when a stream has no state to limit', () => {
    expect(limitReadAhead(new Readable({ read() {} }))).to.equal(true);
    expect(limitReadAhead({} as Readable)).to.equal(false);
  });
});
