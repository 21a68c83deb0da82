/**
 * Load generator for the link benchmark, run as its own process:
 *
 *     node --import tsx test/support/link-load.ts ADDRESS TOKENS_JSON WARMUP_MS MEASURE_MS
 *
 * TOKENS_JSON is `[{ node, token }]`; one simulated agent per entry, each
 * on its own gRPC connection. Agents send 8-GPU × 16-process snapshots in
 * frames, within a send window, the way the agent's link does: its own
 * window and frame limits (`DEFAULT_SEND_WINDOW`), but no more than
 * {@link TOTAL_IN_FLIGHT} messages unacknowledged over all agents (at
 * least 8 each), so that the load's memory stays modest. Each
 * message stands for one second of an agent: as the agent's encoder does
 * (`process-identity.ts`), one in 60 carries every process identity in
 * full and the others leave them out. The snapshot bodies are encoded once
 * per agent before it connects (`READY` is printed then) and only the
 * message header (node, seq, time) per message, as a real agent encodes
 * each snapshot once on its own host.
 * Every GPU's readings change each second and so does one process's VRAM
 * (most processes hold a steady amount once loaded).
 * Prints one `RESULT {json}` line: messages acked, p50/p99 send-to-ack
 * latency of messages sent in the measurement window, this process's CPU
 * time in that window, and the sizes.
 */
import { readFileSync } from 'node:fs';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { buildFrame } from '../../shared/src/proto/frame.ts';
import {
  LINK_STREAM_PATH,
  loadLinkProto,
} from '../../shared/src/proto/link-proto.ts';
import {
  collectorReplyFromWire,
  encodeAgentMessage,
  encodeStreamOpen,
} from '../../shared/src/proto/message-codec.ts';
import {
  IDENTITY_REFRESH_MS,
  IdentityElider,
} from '../../shared/src/proto/process-identity.ts';
import { DEFAULT_SEND_WINDOW } from '../../agent/src/link/link-session.ts';
import { sampleSnapshot } from './link-fixtures.ts';

const [address, tokensFile, warmupText, measureText] = process.argv.slice(2);
const agents = JSON.parse(readFileSync(tokensFile!, 'utf8')) as {
  node: string;
  token: string;
}[];
const warmupMs = Number(warmupText);
const measureMs = Number(measureText);
const proto = loadLinkProto();
let t0 = performance.now();
const latenciesMs: number[] = [];
let ackedInWindow = 0;

/** How often a real agent sends each identity in full, in samples. */
const FULL_EVERY = IDENTITY_REFRESH_MS / 1000;

/** Distinct steady snapshots each agent cycles through. */
const STEADY_VARIANTS = 12;

/**
 * The snapshot at second `i` of an agent: every GPU's readings move, and
 * one process's VRAM differs from the second before's.
 */
function snapshotAt(node: string, i: number) {
  const snapshot = sampleSnapshot(node);
  snapshot.takenAt = new Date(1772287200000 + i * 1000).toISOString();
  snapshot.gpus.forEach((gpu, g) => {
    gpu.utilizationPercent.gpu = (i * 7 + g) % 100;
    gpu.temperatureC = 60 + ((i + g) % 9);
    gpu.powerWatts = 400 + ((i * 13 + g) % 300) + 0.25;
    gpu.memory.usedBytes! += i * 4096;
    gpu.memory.freeBytes! -= i * 4096;
  });
  const processes = snapshot.gpus.flatMap((gpu) => gpu.processes);
  processes[i % processes.length]!.usedBytes! += 1024 * 1024 * (1 + (i % 5));
  return snapshot;
}

/**
 * The snapshot field (11) of an AgentMessage, encoded once per variant,
 * in order through one identity elider: with every identity in full, then
 * the steady seconds that leave them out.
 */
function snapshotFields(node: string): { full: Buffer; steady: Buffer[] } {
  const elider = new IdentityElider();
  const header = encodeHeader(node, 1, 1772287200000);
  const [full, ...steady] = Array.from(
    { length: STEADY_VARIANTS + 1 },
    (_, i) => {
      const bytes = encodeAgentMessage(
        proto,
        {
          node,
          seq: 1,
          sentAtMs: 1772287200000,
          payload: { type: 'snapshot', snapshot: snapshotAt(node, i) },
        },
        elider,
      );
      return bytes.subarray(header.length);
    },
  );
  return { full: full!, steady };
}

/** protobufjs's encoding of an AgentMessage's fields 1-3. */
function encodeHeader(node: string, seq: number, sentAtMs: number): Buffer {
  const bytes = proto.types.agentMessage
    .encode({ node, seq, sentAtMs })
    .finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function varintLength(value: number): number {
  let length = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 128)) {
    length += 1;
  }
  return length;
}

function writeVarint(buf: Buffer, at: number, value: number): number {
  let rest = value;
  let pos = at;
  while (rest >= 0x80) {
    buf[pos++] = (rest & 0x7f) | 0x80;
    rest = Math.floor(rest / 128);
  }
  buf[pos++] = rest;
  return pos;
}

const SENT_AT_MS = 1772287200000;

/**
 * A frame of `count` messages from `first` on, written straight into one
 * buffer: the same bytes as protobufjs's header (node, seq, sent_at_ms)
 * followed by the snapshot field, framed as `frame.ts` frames them, so
 * that building frames costs this process little of the shared CPU.
 */
function batchFrame(
  node: Buffer,
  first: number,
  count: number,
  bodyOf: (seq: number) => Buffer,
): Buffer {
  const fixed = 1 + varintLength(node.length) + node.length + 2;
  const sentAtLength = varintLength(SENT_AT_MS);
  let total = 0;
  for (let seq = first; seq < first + count; seq += 1) {
    const length =
      fixed + varintLength(seq) + sentAtLength + bodyOf(seq).length;
    total += 1 + varintLength(length) + length;
  }
  const frame = Buffer.allocUnsafe(total);
  let at = 0;
  for (let seq = first; seq < first + count; seq += 1) {
    const body = bodyOf(seq);
    const length = fixed + varintLength(seq) + sentAtLength + body.length;
    frame[at++] = 0x12; // AgentFrame.messages
    at = writeVarint(frame, at, length);
    frame[at++] = 0x0a; // AgentMessage.node
    at = writeVarint(frame, at, node.length);
    at += node.copy(frame, at);
    frame[at++] = 0x10; // AgentMessage.seq
    at = writeVarint(frame, at, seq);
    frame[at++] = 0x18; // AgentMessage.sent_at_ms
    at = writeVarint(frame, at, SENT_AT_MS);
    at += body.copy(frame, at);
  }
  return frame;
}

function runAgent(
  node: string,
  token: string,
  bodies: ReturnType<typeof snapshotFields>,
): void {
  const client = new Client(address!, credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
  });
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const call: ClientDuplexStream<Buffer, unknown> =
    client.makeBidiStreamRequest(
      LINK_STREAM_PATH,
      (b: Buffer) => b,
      proto.service.Stream!.responseDeserialize,
      metadata,
    );
  const sentAt = new Map<number, number>();
  const nodeBytes = Buffer.from(node);
  const bodyOf = (seq: number) =>
    seq % FULL_EVERY === 1
      ? bodies.full
      : bodies.steady[seq % STEADY_VARIANTS]!;
  let nextSeq = 1;
  let acked = 0;
  let waitingDrain = false;
  const pump = () => {
    while (!waitingDrain && nextSeq - 1 - acked < windowMessages) {
      const now = performance.now();
      const first = nextSeq;
      const count = Math.min(
        batchMessages,
        windowMessages - (first - 1 - acked),
      );
      nextSeq += count;
      for (let seq = first; seq < nextSeq; seq += 1) sentAt.set(seq, now);
      const frame = batchFrame(nodeBytes, first, count, bodyOf);
      if (!call.write(frame)) {
        waitingDrain = true;
        call.once('drain', () => {
          waitingDrain = false;
          pump();
        });
      }
    }
  };
  call.on('data', (wire) => {
    const reply = collectorReplyFromWire(wire);
    if (reply?.type === 'welcome') pump();
    if (reply?.type !== 'ack') return;
    const now = performance.now();
    for (let seq = acked + 1; seq <= reply.seq; seq += 1) {
      const sent = sentAt.get(seq)!;
      sentAt.delete(seq);
      if (sent - t0 >= warmupMs && now - t0 <= warmupMs + measureMs) {
        latenciesMs.push(now - sent);
        ackedInWindow += 1;
      }
    }
    acked = reply.seq;
    pump();
  });
  call.on('error', () => {});
  call.write(
    buildFrame(
      encodeStreamOpen(proto, { node, agentVersion: 'bench', hello: null }),
      [],
    ),
  );
}

// Every snapshot is encoded before the first agent connects, so the
// measured window holds sending only.
const prepared = agents.map(({ node }) => snapshotFields(node));

/** Messages unacknowledged over all agents together, at most. */
const TOTAL_IN_FLIGHT = 3200;
const messageBytes = prepared[0]!.steady[0]!.length;
const windowMessages = Math.max(
  8,
  Math.min(
    DEFAULT_SEND_WINDOW.messages,
    Math.floor(DEFAULT_SEND_WINDOW.bytes / messageBytes),
    Math.floor(TOTAL_IN_FLIGHT / agents.length),
  ),
);
const batchMessages = Math.max(
  1,
  Math.min(
    windowMessages,
    DEFAULT_SEND_WINDOW.batchMessages,
    Math.floor(DEFAULT_SEND_WINDOW.batchBytes / messageBytes),
  ),
);
// The hand-written frames must be the bytes the agent's codec would send.
{
  const bodies = prepared[0]!;
  const bodyOf = (seq: number) =>
    seq % FULL_EVERY === 1
      ? bodies.full
      : bodies.steady[seq % STEADY_VARIANTS]!;
  const expected = buildFrame(
    null,
    [1, 2, 300].map((seq) =>
      Buffer.concat([
        encodeHeader(agents[0]!.node, seq, SENT_AT_MS),
        bodyOf(seq),
      ]),
    ),
  );
  const written = Buffer.concat([
    batchFrame(Buffer.from(agents[0]!.node), 1, 2, bodyOf),
    batchFrame(Buffer.from(agents[0]!.node), 300, 1, bodyOf),
  ]);
  if (!written.equals(expected)) {
    console.error('link-load: hand-written frames differ from the codec');
    process.exit(1);
  }
}
t0 = performance.now();
console.log('READY');
agents.forEach(({ node, token }, i) => runAgent(node, token, prepared[i]!));
let cpuAtStart = process.cpuUsage();
let loadCpuMicros = 0;
setTimeout(() => (cpuAtStart = process.cpuUsage()), warmupMs);
setTimeout(() => {
  const used = process.cpuUsage(cpuAtStart);
  loadCpuMicros = used.user + used.system;
}, warmupMs + measureMs);
setTimeout(
  () => {
    latenciesMs.sort((a, b) => a - b);
    const at = (q: number) =>
      latenciesMs[
        Math.min(latenciesMs.length - 1, Math.floor(q * latenciesMs.length))
      ] ?? null;
    console.log(
      `RESULT ${JSON.stringify({ ackedInWindow, loadCpuMicros, p50Ms: at(0.5), p99Ms: at(0.99), fullBytes: snapshotFields('x').full.length, steadyBytes: snapshotFields('x').steady[0]!.length, windowMessages, batchMessages })}`,
    );
    process.exit(0);
  },
  warmupMs + measureMs + 500,
);
