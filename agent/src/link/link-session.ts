/**
 * One gRPC stream to the collector: sends the opening, waits for the
 * welcome, then sends outbox entries in seq order in frames of a few
 * hundred KiB, never more than the send window unacknowledged (grpc-js
 * would otherwise buffer without bound), and hands acks, rejections and
 * the stream's end to its owner.
 */
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import type { Clock } from '../../../shared/src/clock.ts';
import { buildFrame } from '../../../shared/src/proto/frame.ts';
import { collectorReplyFromWire } from '../../../shared/src/proto/message-codec.ts';
import type { Outbox } from './outbox.ts';

/** Limits on what is sent and unacknowledged. */
export interface SendWindow {
  /** Unacknowledged messages at most; default 2048. */
  messages: number;
  /** Unacknowledged bytes at most; default 8 MiB. */
  bytes: number;
  /** Messages per frame at most; default 256. */
  batchMessages: number;
  /** Bytes per frame at most (one message may exceed it); default 512 KiB. */
  batchBytes: number;
}

/** Defaults of {@link SendWindow}. */
export const DEFAULT_SEND_WINDOW: SendWindow = {
  messages: 2048,
  bytes: 8 * 1024 * 1024,
  batchMessages: 256,
  batchBytes: 512 * 1024,
};

/** How the stream ended: null for a clean end by the collector. */
export type SessionEnd = { code: number; details: string } | null;

/** What the session reports to its owner. */
export interface SessionEvents {
  onWelcome(lastSeq: number): void;
  onAck(seq: number): void;
  onRejected(seq: number, reason: string): void;
  onEnd(end: SessionEnd): void;
}

/** Collaborators and settings of a session. */
export interface SessionDeps {
  outbox: Outbox;
  clock: Clock;
  window: SendWindow;
  /** Highest seq that may be sent (persisted reservation). */
  sendableThrough: () => number;
  events: SessionEvents;
}

interface InFlight {
  seq: number;
  sizeBytes: number;
  sentAtMs: number;
}

/** One stream's sending state. */
export class LinkSession {
  private welcomed = false;
  private ended = false;
  private pumping = false;
  private again = false;
  private cursorSeq = 0;
  private inflight: InFlight[] = [];
  private inflightBytes = 0;
  private releaseDrain: () => void = () => {};

  constructor(
    private readonly call: ClientDuplexStream<Buffer, unknown>,
    private readonly deps: SessionDeps,
  ) {}

  /** Sends the opening frame and starts listening. */
  start(openBytes: Buffer): void {
    this.call.on('data', (wire: unknown) => this.onReply(wire));
    this.call.on('error', (error: ServiceError) =>
      this.end({
        code: error.code ?? 2,
        details: error.details ?? error.message,
      }),
    );
    this.call.on('end', () => this.end(null));
    this.call.write(buildFrame(openBytes, []));
  }

  /** Sends what the window allows; call after pushes and acks. */
  pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void this.pumpLoop().finally(() => {
      this.pumping = false;
    });
  }

  /** Age of the oldest unacknowledged message, ms; 0 when none. */
  oldestUnackedMs(): number {
    const oldest = this.inflight[0];
    return oldest === undefined
      ? 0
      : this.deps.clock.monotonicMs() - oldest.sentAtMs;
  }

  /** Ends the stream from this side. */
  cancel(): void {
    if (!this.ended) this.call.cancel();
  }

  private async pumpLoop(): Promise<void> {
    do {
      this.again = false;
      while (this.welcomed && !this.ended && (await this.sendBatch())) {
        // Keep sending while the window and the outbox allow.
      }
    } while (this.again && this.welcomed && !this.ended);
  }

  /** Sends one frame; false when nothing could be sent. */
  private async sendBatch(): Promise<boolean> {
    const window = this.deps.window;
    const roomMessages = window.messages - this.inflight.length;
    const roomBytes = window.bytes - this.inflightBytes;
    if (roomMessages <= 0 || roomBytes <= 0) return false;
    const entries = this.deps.outbox.after(this.cursorSeq, {
      throughSeq: this.deps.sendableThrough(),
      maxMessages: Math.min(roomMessages, window.batchMessages),
      maxBytes: Math.min(roomBytes, window.batchBytes),
    });
    if (entries.length === 0) return false;
    const parts: Buffer[] = [];
    for (const entry of entries) {
      const bytes = await this.deps.outbox.bytesOf(entry);
      if (bytes !== null) parts.push(bytes);
    }
    if (this.ended) return false;
    const sentAtMs = this.deps.clock.monotonicMs();
    for (const entry of entries) {
      this.inflight.push({
        seq: entry.seq,
        sizeBytes: entry.sizeBytes,
        sentAtMs,
      });
      this.inflightBytes += entry.sizeBytes;
    }
    this.cursorSeq = entries[entries.length - 1]!.seq;
    if (parts.length > 0 && !this.call.write(buildFrame(null, parts))) {
      await new Promise<void>((resolve) => {
        this.releaseDrain = resolve;
        this.call.once('drain', resolve);
      });
    }
    return true;
  }

  private onReply(wire: unknown): void {
    const reply = collectorReplyFromWire(wire);
    if (reply === null) return;
    if (reply.type === 'welcome') {
      this.welcomed = true;
      this.cursorSeq = reply.lastSeq;
      this.deps.events.onWelcome(reply.lastSeq);
      this.pump();
    } else if (reply.type === 'ack') {
      this.acked(reply.seq);
      this.deps.events.onAck(reply.seq);
      this.pump();
    } else {
      this.deps.events.onRejected(reply.seq, reply.reason);
    }
  }

  private acked(seq: number): void {
    let count = 0;
    while (count < this.inflight.length && this.inflight[count]!.seq <= seq) {
      this.inflightBytes -= this.inflight[count]!.sizeBytes;
      count += 1;
    }
    this.inflight.splice(0, count);
  }

  private end(end: SessionEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.releaseDrain();
    this.deps.events.onEnd(end);
  }
}
