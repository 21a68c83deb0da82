import path from 'node:path';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createLinkClient } from '../../../agent/src/link/link-client.ts';
import type { LinkClient } from '../../../agent/src/link/link-client.ts';
import { createSystemClock } from '../../../shared/src/clock.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import { buildFrame } from '../../../shared/src/proto/frame.ts';
import {
  LINK_STREAM_PATH,
  loadLinkProto,
} from '../../../shared/src/proto/link-proto.ts';
import {
  collectorReplyFromWire,
  encodeAgentMessage,
  encodeStreamOpen,
} from '../../../shared/src/proto/message-codec.ts';
import type { CollectorReply } from '../../../shared/src/proto/message-codec.ts';
import {
  sliPayload,
  startTestIngest,
  tempDir,
  testLinkConfig,
  waitUntil,
  writeToken,
} from '../../support/link-harness.ts';
import type { TestIngest } from '../../support/link-harness.ts';

const proto = loadLinkProto();

/** A hand-driven stream: frames in, replies and the final status out. */
function rawStream(address: string, token: string | null) {
  const client = new Client(address, credentials.createInsecure());
  const metadata = new Metadata();
  if (token !== null) metadata.set('authorization', `Bearer ${token}`);
  const call: ClientDuplexStream<Buffer, unknown> =
    client.makeBidiStreamRequest(
      LINK_STREAM_PATH,
      (b: Buffer) => b,
      proto.service.Stream!.responseDeserialize,
      metadata,
    );
  const replies: CollectorReply[] = [];
  const ended = new Promise<ServiceError | null>((resolve) => {
    call.on('data', (wire) => replies.push(collectorReplyFromWire(wire)!));
    call.on('error', (error: ServiceError) => resolve(error));
    call.on('end', () => resolve(null));
  });
  return { client, call, replies, ended };
}

function openFrame(node: string): Buffer {
  return buildFrame(
    encodeStreamOpen(proto, { node, agentVersion: 'test', hello: null }),
    [],
  );
}

function sliBytes(
  node: string,
  seq: number,
  payload = sliPayload(seq),
): Buffer {
  return encodeAgentMessage(proto, {
    node,
    seq,
    sentAtMs: 1772287200000,
    payload,
  });
}

describe('startIngestServer()', function () {
  this.timeout(30_000);
  let dir: string;
  let ingest: TestIngest;
  const clients: LinkClient[] = [];
  const raws: Client[] = [];
  let tokens: Record<string, ReturnType<typeof writeToken>>;

  before(async () => {
    dir = tempDir();
    tokens = {};
    for (const node of ['jasper', 'onyx', 'basalt'])
      tokens[node] = writeToken(dir, node);
    const entries = Object.entries(tokens).map(([node, t]) => ({
      node,
      tokenSha256: t.tokenSha256,
    }));
    for (let i = 0; i < 50; i += 1) {
      const node = `gpu-${i}`;
      tokens[node] = writeToken(dir, node);
      entries.push({ node, tokenSha256: tokens[node]!.tokenSha256 });
    }
    ingest = await startTestIngest(dir, {
      tokens: entries,
      maxMessageBytes: 1024 * 1024,
    });
  });

  after(async () => {
    for (const client of clients) await client.stop();
    raws.forEach((raw) => raw.close());
    await ingest.server.close();
  });

  function linkClient(node: string, tokenFile: string): LinkClient {
    const client = createLinkClient(
      {
        node,
        agentVersion: '0.1.0',
        stateDir: path.join(dir, `agent-${node}-${clients.length}`),
        config: testLinkConfig(ingest.address, tokenFile),
      },
      {
        clock: createSystemClock(),
        fs: createNodeFs(),
        logger: createSilentLogger(),
      },
    );
    clients.push(client);
    return client;
  }

  function raw(token: string | null) {
    const stream = rawStream(ingest.address, token);
    raws.push(stream.client);
    return stream;
  }

  describe('authentication', () => {
    it('ends a stream without a token with UNAUTHENTICATED', async () => {
      const stream = raw(null);
      stream.call.write(openFrame('jasper'));

      const error = await stream.ended;

      expect(error?.code).to.equal(16);
      expect(error?.details).to.match(/no bearer token/);
    });

    it('refuses a wrong token, stores nothing, and the agent says why', async () => {
      const wrongFile = writeToken(tempDir(), 'jasper').file;
      const client = linkClient('jasper', wrongFile);
      await client.start();
      client.send(sliPayload(1));

      await waitUntil(() => client.status().lastError !== null, 'an error');

      expect(client.status().lastError).to.match(
        /^collector rejected token for node jasper: collector rejected the token/,
      );
      expect(client.status().connected).to.equal(false);
      expect(ingest.applied.filter((m) => m.node === 'jasper')).to.have.length(
        0,
      );
    });

    it('refuses a token of another node with PERMISSION_DENIED', async () => {
      const client = linkClient('jasper', tokens.onyx!.file);
      await client.start();
      client.send(sliPayload(1));

      await waitUntil(() => client.status().lastError !== null, 'an error');

      expect(client.status().lastError).to.equal(
        'collector rejected token for node jasper: token is for node onyx, not jasper',
      );
      expect(
        ingest.applied.filter((m) => m.node === 'jasper' || m.node === 'onyx'),
      ).to.have.length(0);
    });
  });

  describe('bad messages', () => {
    it('ends an oversized frame with RESOURCE_EXHAUSTED while another agent streams on', async () => {
      const good = linkClient('basalt', tokens.basalt!.file);
      await good.start();
      const stream = raw(tokens.onyx!.token);
      stream.call.write(openFrame('onyx'));

      for (let i = 0; i < 200; i += 1) good.send(sliPayload(i));
      stream.call.write(buildFrame(null, [Buffer.alloc(2 * 1024 * 1024, 1)]));
      const error = await stream.ended;
      await waitUntil(
        () => good.status().lastAckedSeq === 200,
        'the good agent acked',
      );

      expect(error?.code).to.equal(8);
      expect(
        ingest.applied.filter((m) => m.node === 'basalt').map((m) => m.seq),
      ).to.deep.equal(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(ingest.applied.filter((m) => m.node === 'onyx')).to.have.length(0);
    });

    it('ends a truncated frame with INVALID_ARGUMENT', async () => {
      const stream = raw(tokens.onyx!.token);
      stream.call.write(openFrame('onyx'));
      const frame = buildFrame(null, [sliBytes('onyx', 1)]);

      stream.call.write(frame.subarray(0, frame.length - 5));
      const error = await stream.ended;

      expect(error?.code).to.equal(3);
      expect(error?.details).to.match(/truncated/);
      expect(ingest.applied.filter((m) => m.node === 'onyx')).to.have.length(0);
    });

    it('rejects an out-of-range message and keeps the stream', async () => {
      const stream = raw(tokens.onyx!.token);
      stream.call.write(openFrame('onyx'));
      const bad = sliPayload(1);
      if (bad.type === 'sli') bad.sli.total = 999;

      stream.call.write(
        buildFrame(null, [sliBytes('onyx', 1, bad), sliBytes('onyx', 2)]),
      );
      await waitUntil(
        () => stream.replies.some((r) => r.type === 'ack' && r.seq === 2),
        'ack 2',
      );
      stream.call.end();
      await stream.ended;

      expect(stream.replies[0]).to.deep.equal({
        type: 'welcome',
        lastSeq: 0,
        maxFrameBytes: 1024 * 1024,
      });
      expect(stream.replies[1]).to.deep.include({ type: 'rejected', seq: 1 });
      expect(
        ingest.applied.filter((m) => m.node === 'onyx').map((m) => m.seq),
      ).to.deep.equal([2]);
      expect(ingest.fleet.node('onyx')?.counts.rejected).to.equal(1);
    });

    it('acks a resent message without storing it twice', async () => {
      const stream = raw(tokens.onyx!.token);
      stream.call.write(openFrame('onyx'));

      stream.call.write(
        buildFrame(null, [sliBytes('onyx', 2), sliBytes('onyx', 3)]),
      );
      await waitUntil(
        () => stream.replies.some((r) => r.type === 'ack' && r.seq === 3),
        'ack 3',
      );
      stream.call.end();
      await stream.ended;

      expect(stream.replies[0]).to.deep.include({
        type: 'welcome',
        lastSeq: 2,
      });
      expect(
        ingest.applied.filter((m) => m.node === 'onyx').map((m) => m.seq),
      ).to.deep.equal([2, 3]);
    });
  });

  it('serves 50 agents streaming at once', async () => {
    const nodes = Array.from({ length: 50 }, (_, i) => `gpu-${i}`);
    const agents = nodes.map((node) => linkClient(node, tokens[node]!.file));
    await Promise.all(agents.map((agent) => agent.start()));

    agents.forEach((agent) => {
      for (let i = 0; i < 40; i += 1) agent.send(sliPayload(i));
    });
    await waitUntil(
      () => agents.every((agent) => agent.status().lastAckedSeq === 40),
      'all acked',
      20_000,
    );

    for (const node of nodes) {
      expect(
        ingest.applied.filter((m) => m.node === node).map((m) => m.seq),
      ).to.deep.equal(Array.from({ length: 40 }, (_, i) => i + 1));
    }
    expect(
      ingest.fleet
        .nodes()
        .filter((n) => n.node.startsWith('gpu-') && n.connected),
    ).to.have.length(50);
  });
});
