/**
 * The agent's link to the collector: assigns each message its seq, keeps
 * it in the outbox until the collector acknowledges it, and keeps one
 * stream up, reconnecting with exponential backoff and jitter. `send`
 * never blocks and never throws.
 */
import path from 'node:path';
import { Client, Metadata, status as Status } from '@grpc/grpc-js';
import type { Clock } from '../../../shared/src/clock.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { AgentPayload, Hello } from '../../../shared/src/messages.ts';
import {
  LINK_STREAM_PATH,
  loadLinkProto,
} from '../../../shared/src/proto/link-proto.ts';
import type { LinkProto } from '../../../shared/src/proto/link-proto.ts';
import { IdentityElider } from '../../../shared/src/proto/process-identity.ts';
import {
  encodeAgentMessage,
  encodeStreamOpen,
} from '../../../shared/src/proto/message-codec.ts';
import { backoffDelayMs } from './backoff.ts';
import { linkChannel } from './link-credentials.ts';
import type { LinkConfig } from './link-config.ts';
import { LinkSession, DEFAULT_SEND_WINDOW } from './link-session.ts';
import type { SendWindow, SessionEnd } from './link-session.ts';
import { Outbox } from './outbox.ts';
import type { Recorder } from './recorder.ts';
import { SeqReservation } from './seq-reservation.ts';

/** Largest single message the agent sends, bytes; larger ones are dropped. */
export const MAX_AGENT_MESSAGE_BYTES = 1024 * 1024;

/** What the client needs. */
export interface LinkClientOptions {
  node: string;
  agentVersion: string;
  /** Agent state directory (seq reservation; outbox under `outbox/`). */
  stateDir: string;
  config: LinkConfig;
  /** Send window and batching; defaults in {@link DEFAULT_SEND_WINDOW}. */
  window?: Partial<SendWindow>;
  /** Spill unacknowledged messages older than this, ms; default 2000. */
  spillAfterMs?: number;
}

/** Collaborators of the client. */
export interface LinkClientDeps {
  clock: Clock;
  logger: Logger;
  fs: Fs;
  /** Also writes every message to a recording (`--record`). */
  recorder?: Recorder;
  /** [0, 1) for backoff jitter; default Math.random. */
  random?: () => number;
}

/** What `status()` reports. */
export interface LinkStatus {
  connected: boolean;
  backlogMessages: number;
  backlogBytes: number;
  spilledMessages: number;
  thinnedMessages: number;
  /** Messages the collector refused (or too big to send) since start. */
  rejectedMessages: number;
  lastAckedSeq: number;
  nextSeq: number;
  /** One line on the last failure; null when none happened. */
  lastError: string | null;
}

/** The agent's side of the link. */
export interface LinkClient {
  /** Queues a payload as the next message; returns at once. */
  send(payload: AgentPayload): void;
  /** Loads the outbox and seq state, then connects. */
  start(): Promise<void>;
  /** Closes the stream and spills everything unacknowledged to disk. */
  stop(): Promise<void>;
  status(): LinkStatus;
}

/** Creates the client; nothing happens before `start()`. */
export function createLinkClient(
  options: LinkClientOptions,
  deps: LinkClientDeps,
): LinkClient {
  return new LinkClientImpl(options, deps);
}

const TICK_MS = 1000;

class LinkClientImpl implements LinkClient {
  private readonly log: Logger;
  private readonly window: SendWindow;
  private proto: LinkProto | null = null;
  private outbox: Outbox | null = null;
  private seqs: SeqReservation | null = null;
  private grpc: Client | null = null;
  private session: LinkSession | null = null;
  private early: AgentPayload[] = [];
  private hello: Hello | null = null;
  private connected = false;
  private stopping = false;
  private attempt = 0;
  private rejected = 0;
  private lastAckedSeq = 0;
  private lastError: string | null = null;
  /** Leaves out identities the collector has (`process-identity.ts`). */
  private readonly identities = new IdentityElider();
  private cancelTimers: (() => void)[] = [];

  constructor(
    private readonly options: LinkClientOptions,
    private readonly deps: LinkClientDeps,
  ) {
    this.log = deps.logger.child({
      component: 'link',
      collector: options.config.address,
    });
    this.window = { ...DEFAULT_SEND_WINDOW, ...options.window };
  }

  send(payload: AgentPayload): void {
    if (payload.type === 'hello') this.hello = payload.hello;
    if (this.outbox === null || this.seqs === null || this.proto === null) {
      this.early.push(payload);
      return;
    }
    const seq = this.seqs.take();
    const message = {
      node: this.options.node,
      seq,
      sentAtMs: this.deps.clock.nowMs(),
      payload,
    };
    this.deps.recorder?.record(message);
    const bytes = this.encode(message);
    if (bytes === null) return;
    const atMs =
      payload.type === 'snapshot'
        ? Date.parse(payload.snapshot.takenAt)
        : message.sentAtMs;
    this.outbox.push({ seq, kind: payload.type, atMs, bytes });
    if (!this.connected) void this.outbox.spill();
    this.session?.pump();
  }

  async start(): Promise<void> {
    const config = this.options.config;
    this.proto = loadLinkProto();
    this.outbox = await Outbox.open(
      {
        ...config.outbox,
        dir: config.outbox.dir ?? path.join(this.options.stateDir, 'outbox'),
      },
      this.log,
    );
    this.outbox.onThinned = (total) => {
      // Thinned snapshots may have carried identities in full.
      this.identities.reset();
      queueMicrotask(() => this.reportThinned(total));
    };
    this.seqs = await SeqReservation.open(this.options.stateDir, this.deps.fs);
    this.seqs.onReserved = () => this.session?.pump();
    this.seqs.onReserveFailed = (error) =>
      this.log.error(
        { err: error },
        'cannot persist link sequence numbers; sending waits',
      );
    const early = this.early;
    this.early = [];
    early.forEach((payload) => this.send(payload));
    const channel = await linkChannel(config, this.deps.fs);
    this.grpc = new Client(
      config.address,
      channel.credentials,
      channel.options,
    );
    this.cancelTimers.push(
      this.deps.clock.setInterval(() => this.tick(), TICK_MS),
    );
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.cancelTimers.forEach((cancel) => cancel());
    this.session?.cancel();
    this.grpc?.close();
    await this.outbox?.spill();
    await this.outbox?.close();
    await this.seqs?.settle();
    await this.deps.recorder?.flush();
  }

  status(): LinkStatus {
    const counts = this.outbox?.counts();
    return {
      connected: this.connected,
      backlogMessages: (counts?.messages ?? 0) + this.early.length,
      backlogBytes: counts?.bytes ?? 0,
      spilledMessages: counts?.spilledMessages ?? 0,
      thinnedMessages: counts?.thinnedMessages ?? 0,
      rejectedMessages: this.rejected,
      lastAckedSeq: this.lastAckedSeq,
      nextSeq: this.seqs?.peekNext() ?? 0,
      lastError: this.lastError,
    };
  }

  private encode(
    message: Parameters<typeof encodeAgentMessage>[1],
  ): Buffer | null {
    try {
      const bytes = encodeAgentMessage(this.proto!, message, this.identities);
      if (bytes.length <= MAX_AGENT_MESSAGE_BYTES) return bytes;
      this.log.error(
        {
          seq: message.seq,
          type: message.payload.type,
          sizeBytes: bytes.length,
        },
        'message too big to send; dropped',
      );
    } catch (error) {
      this.log.error(
        { err: error, seq: message.seq, type: message.payload.type },
        'message cannot be encoded; dropped',
      );
    }
    this.rejected += 1;
    this.identities.reset();
    return null;
  }

  private async connect(): Promise<void> {
    if (this.stopping || this.grpc === null) return;
    const token = await this.readToken();
    if (token === null) return this.scheduleReconnect();
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    const call = this.grpc.makeBidiStreamRequest(
      LINK_STREAM_PATH,
      (frame: Buffer) => frame,
      this.proto!.service.Stream!.responseDeserialize,
      metadata,
    );
    const session = new LinkSession(call, {
      outbox: this.outbox!,
      clock: this.deps.clock,
      window: this.window,
      sendableThrough: () => this.seqs!.sendableThrough(),
      events: {
        onWelcome: (lastSeq) => this.onWelcome(lastSeq),
        onAck: (seq) => this.onAck(seq),
        onRejected: (seq, reason) => this.onRejected(seq, reason),
        onEnd: (end) => this.onEnd(session, end),
      },
    });
    this.session = session;
    const open = {
      node: this.options.node,
      agentVersion: this.options.agentVersion,
      hello: this.hello,
    };
    session.start(encodeStreamOpen(this.proto!, open));
  }

  private async readToken(): Promise<string | null> {
    const file = this.options.config.tokenFile;
    try {
      const token = (await this.deps.fs.readText(file)).trim();
      if (token !== '') return token;
      this.noteError(
        `token file ${file} is empty; put the token from gpuwarden-collector token create in it`,
        'error',
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      this.noteError(
        `cannot read token file ${file} (${code}); check collector.tokenFile`,
        'error',
      );
    }
    return null;
  }

  private onWelcome(lastSeq: number): void {
    this.connected = true;
    // The collector may have restarted and forgotten identities.
    this.identities.reset();
    this.attempt = 0;
    this.onAck(lastSeq);
    this.log.info(
      { lastSeq, backlogMessages: this.outbox!.counts().messages },
      'link connected',
    );
  }

  private onAck(seq: number): void {
    this.lastAckedSeq = Math.max(this.lastAckedSeq, seq);
    this.outbox!.ack(seq);
  }

  private onRejected(seq: number, reason: string): void {
    this.rejected += 1;
    this.identities.reset();
    this.log.error(
      { seq, reason },
      'collector rejected a message; it is dropped',
    );
  }

  private onEnd(session: LinkSession, end: SessionEnd): void {
    if (this.session !== session) return;
    this.session = null;
    const wasConnected = this.connected;
    this.connected = false;
    // The backlog then starts with every identity in full, whether or not
    // the collector keeps what it learned before.
    this.identities.reset();
    void this.outbox?.spill();
    if (this.stopping) return;
    this.noteError(
      describeEnd(end, this.options),
      isAuthFailure(end) ? 'error' : 'warn',
    );
    if (wasConnected) this.log.info({}, 'link disconnected');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopping) return;
    const delayMs = backoffDelayMs(
      this.attempt,
      this.options.config.reconnect,
      this.deps.random ?? Math.random,
    );
    this.attempt += 1;
    this.log.debug({ delayMs, attempt: this.attempt }, 'reconnecting later');
    const cancel = this.deps.clock.setTimeout(
      () => void this.connect(),
      delayMs,
    );
    this.cancelTimers.push(cancel);
  }

  private tick(): void {
    const session = this.session;
    const spillAfterMs = this.options.spillAfterMs ?? 2000;
    if (
      session !== null &&
      session.oldestUnackedMs() > this.options.config.ackTimeoutMs
    ) {
      this.noteError(
        `no ack from the collector for ${this.options.config.ackTimeoutMs} ms; reconnecting`,
        'warn',
      );
      session.cancel();
    }
    const slow = session === null || session.oldestUnackedMs() > spillAfterMs;
    if (slow && this.outbox?.hasUnspilled()) void this.outbox.spill();
  }

  private reportThinned(total: number): void {
    const atMs = this.deps.clock.nowMs();
    this.send({
      type: 'health',
      health: {
        atMs,
        component: 'link',
        status: 'degraded',
        kind: 'outbox_thinned',
        message: 'outbox full while the collector was away; snapshots thinned',
        ollama: null,
        details: { thinnedMessages: total },
      },
    });
  }

  private noteError(text: string, level: 'error' | 'warn'): void {
    if (text === this.lastError) {
      this.log.debug({ error: text }, 'link still failing');
      return;
    }
    this.lastError = text;
    this.log[level]({ error: text }, 'link failure');
  }
}

function isAuthFailure(end: SessionEnd): boolean {
  return (
    end !== null &&
    (end.code === Status.UNAUTHENTICATED ||
      end.code === Status.PERMISSION_DENIED)
  );
}

function describeEnd(end: SessionEnd, options: LinkClientOptions): string {
  if (end === null) return 'collector ended the stream';
  if (isAuthFailure(end))
    return `collector rejected token for node ${options.node}: ${end.details}`;
  if (end.code === Status.UNAVAILABLE)
    return `collector unavailable at ${options.config.address}: ${end.details}`;
  return `collector ended the stream with ${Status[end.code] ?? end.code}: ${end.details}`;
}
