import { EventEmitter } from 'node:events';
import { status as Status } from '@grpc/grpc-js';
import { expect } from 'chai';
import {
  AgentStream,
  endFailedNodes,
} from '../../../collector/src/ingest/agent-stream.ts';
import type {
  LinkCall,
  StreamContext,
} from '../../../collector/src/ingest/agent-stream.ts';
import type {
  CommitQueue,
  StoredMessage,
} from '../../../collector/src/ingest/commit-queue.ts';
import { FleetState } from '../../../collector/src/ingest/fleet-state.ts';
import { MessageApplier } from '../../../collector/src/ingest/message-applier.ts';
import { FlowPool } from '../../../collector/src/ingest/stream-flow.ts';
import type { MessageSink } from '../../../collector/src/ingest/message-sink.ts';
import { buildFrame } from '../../../shared/src/proto/frame.ts';
import { NodeIdentities } from '../../../shared/src/proto/identity-memory.ts';
import { loadLinkProto } from '../../../shared/src/proto/link-proto.ts';
import {
  encodeAgentMessage,
  encodeStreamOpen,
} from '../../../shared/src/proto/message-codec.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { sampleSnapshot } from '../../support/link-fixtures.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';

const proto = loadLinkProto();
const T0 = Date.parse('2026-02-28T14:00:00Z');

/** The side of a gRPC call the stream uses, recording what it does. */
class FakeCall extends EventEmitter {
  paused = false;
  replies: Record<string, unknown>[] = [];
  errors: { code: number; details: string }[] = [];
  metadata = { get: () => [] };

  constructor() {
    super();
    this.on('error', (error: { code: number; details: string }) =>
      this.errors.push(error),
    );
  }

  getPeer(): string {
    return '127.0.0.1:40000';
  }

  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    this.paused = false;
    return this;
  }

  write(reply: Record<string, unknown>): boolean {
    this.replies.push(reply);
    return true;
  }

  end(): void {}

  acks(): number[] {
    return this.replies.flatMap((r) =>
      r.ack ? [(r.ack as { seq: number }).seq] : [],
    );
  }
}

/** A commit queue whose writes finish, or fail, when the test says. */
class HeldCommits {
  writes: {
    node: string;
    seqs: number[];
    finish: () => void;
    fail: () => void;
  }[] = [];
  marks: [string, number][] = [];

  submit(node: string, messages: readonly StoredMessage[]): Promise<void> {
    return new Promise((finish, reject) => {
      this.writes.push({
        node,
        seqs: messages.map((m) => m.seq),
        finish: () => finish(),
        fail: () => reject(new Error('ENOSPC: no space left on device')),
      });
    });
  }

  markApplied(node: string, seq: number): void {
    this.marks.push([node, seq]);
  }
}

function message(node: string, seq: number): Buffer {
  const snapshot = sampleSnapshot(node, 1, 2);
  snapshot.takenAt = new Date(T0 + seq * 1000).toISOString();
  return encodeAgentMessage(proto, {
    node,
    seq,
    sentAtMs: T0 + seq * 1000,
    payload: { type: 'snapshot', snapshot },
  });
}

function openFrame(node: string): Buffer {
  return buildFrame(
    encodeStreamOpen(proto, { node, agentVersion: 'test', hello: null }),
    [],
  );
}

const MESSAGE_BYTES = message('jasper', 1).length;

function setup(
  limits: { perStream: number; total: number },
  sink: MessageSink = { apply: async () => {} },
) {
  const commits = new HeldCommits();
  const fleet = new FleetState();
  const clock = new FakeClock();
  const { logger } = createMemoryLogger();
  const ctx: StreamContext = {
    proto,
    commits: commits as unknown as CommitQueue,
    applier: new MessageApplier({
      sink,
      fleet,
      logger,
      clock,
      storedSeq: () => 0,
    }),
    fleet,
    clock,
    logger,
    accepted: new Map(),
    storedSeq: () => 0,
    streams: new Map(),
    rateLimit: { messagesPerSecond: 1_000_000, burstMessages: 1_000_000 },
    maxFrameBytes: 4 * 1024 * 1024,
    flows: new FlowPool({
      perStreamBytes: limits.perStream,
      totalBytes: limits.total,
    }),
    identities: new NodeIdentities(),
    readAheadWarned: false,
    closing: false,
  };
  const open = (node: string) => {
    const call = new FakeCall();
    new AgentStream(call as unknown as LinkCall, node, ctx).start();
    call.emit('data', openFrame(node));
    return call;
  };
  return { ctx, commits, open };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('AgentStream flow control', () => {
  it('stops reading a stream with too much waiting for the journal, and reads on once it is stored', async () => {
    const t = setup({ perStream: 2.5 * MESSAGE_BYTES, total: 1e9 });
    const call = t.open('jasper');

    call.emit('data', buildFrame(null, [message('jasper', 1)]));
    expect(call.paused).to.equal(false);
    call.emit(
      'data',
      buildFrame(null, [message('jasper', 2), message('jasper', 3)]),
    );
    expect(call.paused).to.equal(true);
    expect(t.ctx.flows.pendingBytes).to.equal(3 * MESSAGE_BYTES);

    t.commits.writes.forEach((write) => write.finish());
    await settle();

    expect(call.paused).to.equal(false);
    expect(call.acks()).to.deep.equal([1, 3]);
    expect(t.commits.marks).to.deep.equal([
      ['jasper', 1],
      ['jasper', 3],
    ]);
    expect(t.ctx.flows.pendingBytes).to.equal(0);
  });

  /** Two streams, and a frame of the first that reaches the total limit. */
  function overTotal() {
    const t = setup({ perStream: 1e9, total: 2 * MESSAGE_BYTES });
    const jasper = t.open('jasper');
    const onyx = t.open('onyx');
    jasper.emit(
      'data',
      buildFrame(null, [message('jasper', 1), message('jasper', 2)]),
    );
    return { ...t, jasper, onyx };
  }

  it('holds back every stream while the total waiting is too much', async () => {
    const { jasper, onyx, ...t } = overTotal();

    expect(jasper.paused).to.equal(true);
    expect(onyx.paused).to.equal(true);

    t.commits.writes[0]!.finish();
    await settle();

    expect(jasper.paused).to.equal(false);
    expect(onyx.paused).to.equal(false);
  });

  it('ends a stream whose messages could not be stored and frees what they held', async () => {
    const { jasper, onyx, ...t } = overTotal();
    expect(onyx.paused).to.equal(true);

    t.commits.writes[0]!.fail();
    await settle();

    expect(jasper.errors).to.deep.equal([
      {
        code: Status.UNAVAILABLE,
        details: 'collector could not store messages; resend later',
      },
    ]);
    expect(jasper.acks()).to.deep.equal([]);
    expect(t.ctx.flows.pendingBytes).to.equal(0);
    expect(onyx.paused).to.equal(false);
  });

  it('ends the stream, not the collector, when a write fails while the sink is busy', async () => {
    let release = () => {};
    const busy = new Promise<void>((resolve) => (release = resolve));
    const t = setup({ perStream: 1e9, total: 1e9 }, { apply: () => busy });
    const call = t.open('jasper');
    call.emit('data', buildFrame(null, [message('jasper', 1)]));
    call.emit('data', buildFrame(null, [message('jasper', 2)]));

    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      t.commits.writes[0]!.finish();
      t.commits.writes[1]!.fail(); // while seq 1 is still being applied
      await settle();
      release();
      await settle();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }

    expect(unhandled).to.deep.equal([]);
    expect(call.acks()).to.deep.equal([1]);
    expect(call.errors.map((e) => e.code)).to.deep.equal([Status.UNAVAILABLE]);
    expect(t.ctx.flows.pendingBytes).to.equal(0);
  });

  it('ends the streams of nodes whose journal write failed, and forgets what they sent', () => {
    const t = setup({ perStream: 1e9, total: 1e9 });
    const jasper = t.open('jasper');
    const onyx = t.open('onyx');
    jasper.emit('data', buildFrame(null, [message('jasper', 3)]));
    onyx.emit('data', buildFrame(null, [message('onyx', 7)]));

    endFailedNodes(t.ctx, ['jasper']);

    expect(jasper.errors.map((e) => e.code)).to.deep.equal([
      Status.UNAVAILABLE,
    ]);
    expect(onyx.errors).to.deep.equal([]);
    expect([...t.ctx.accepted]).to.deep.equal([['onyx', 7]]);
    expect(t.ctx.streams.has('jasper')).to.equal(false);
  });

  it('takes nothing of a frame that ends with a fatal message, so a resend is stored', async () => {
    const t = setup({ perStream: 1e9, total: 1e9 });
    const first = t.open('jasper');
    first.emit(
      'data',
      buildFrame(null, [
        message('jasper', 1),
        message('jasper', 2),
        Buffer.from([0xff, 0xff, 0xff]),
      ]),
    );
    expect(first.errors.map((e) => e.code)).to.deep.equal([
      Status.INVALID_ARGUMENT,
    ]);

    const second = t.open('jasper');
    second.emit(
      'data',
      buildFrame(null, [message('jasper', 1), message('jasper', 2)]),
    );
    t.commits.writes.forEach((write) => write.finish());
    await settle();

    expect(t.commits.writes.map((w) => w.seqs)).to.deep.equal([[1, 2]]);
    expect(second.acks()).to.deep.equal([2]);
  });

  it('stops counting bytes once stored, though a slow sink holds the ack', async () => {
    let release = () => {};
    const busy = new Promise<void>((resolve) => (release = resolve));
    const t = setup({ perStream: 1e9, total: 1e9 }, { apply: () => busy });
    const call = t.open('jasper');
    call.emit('data', buildFrame(null, [message('jasper', 1)]));

    t.commits.writes[0]!.finish();
    await settle();
    expect(t.ctx.flows.pendingBytes).to.equal(0);
    expect(call.acks()).to.deep.equal([]);

    release();
    await settle();
    expect(call.acks()).to.deep.equal([1]);
  });

  it('opens no stream while the ingest shuts down', () => {
    const t = setup({ perStream: 1e9, total: 1e9 });
    t.ctx.closing = true;

    const call = t.open('jasper');

    expect(call.errors).to.deep.equal([
      { code: Status.UNAVAILABLE, details: 'collector is shutting down' },
    ]);
    expect(call.replies).to.deep.equal([]);
  });
});
