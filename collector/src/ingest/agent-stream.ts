/**
 * One agent's stream on the collector: authenticates it, answers its
 * opening, then decodes, validates and deduplicates each frame, hands the
 * new messages to the sink and to the journal at once, and acks
 * cumulatively once they are applied and stored.
 * Every failure ends only this stream, with a status code and a short
 * detail the agent logs.
 */
import { status as Status } from '@grpc/grpc-js';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Clock } from '../../../shared/src/clock.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { AgentMessage } from '../../../shared/src/messages.ts';
import type { LinkProto } from '../../../shared/src/proto/link-proto.ts';
import {
  collectorReplyToWire,
  decodeAgentMessage,
  decodeStreamOpen,
} from '../../../shared/src/proto/message-codec.ts';
import type { CollectorReply } from '../../../shared/src/proto/message-codec.ts';
import { splitFrame } from '../../../shared/src/proto/frame.ts';
import { validateAgentMessage } from '../../../shared/src/proto/validate-message.ts';
import { isoToMs } from '../../../shared/src/proto/wire-values.ts';
import type {
  IdentityMemory,
  NodeIdentities,
} from '../../../shared/src/proto/identity-memory.ts';
import type { CommitQueue, StoredMessage } from './commit-queue.ts';
import type { FleetState } from './fleet-state.ts';
import type { MessageApplier } from './message-applier.ts';
import type { RateLimit } from './rate-limit.ts';
import { StreamFlow } from './stream-flow.ts';
import type { FlowPool } from './stream-flow.ts';

/** The raw duplex call: frames in, reply objects out. */
export type LinkCall = ServerDuplexStream<Buffer, unknown>;

/** What all streams share. */
export interface StreamContext {
  proto: LinkProto;
  commits: CommitQueue;
  applier: MessageApplier;
  fleet: FleetState;
  clock: Clock;
  logger: Logger;
  /** Highest accepted (queued or stored) seq per node. */
  accepted: Map<string, number>;
  /** Highest stored seq of a node, from the journal. */
  storedSeq: (node: string) => number;
  /** The open stream of each node. */
  streams: Map<string, AgentStream>;
  rateLimit: RateLimit;
  maxFrameBytes: number;
  /** When streams are read (`stream-flow.ts`). */
  flows: FlowPool;
  /** Process identities each node sent in full (`process-identity.ts`). */
  identities: NodeIdentities;
  /** Whether the stream read-ahead warning was logged (`flow-window.ts`). */
  readAheadWarned: boolean;
  /** Set when the ingest is shutting down: no stream opens any more. */
  closing: boolean;
}

/** A stream ending status. */
interface Failure {
  code: Status;
  details: string;
}

/** One authenticated agent stream. */
export class AgentStream {
  private opened = false;
  private ended = false;
  private chain: Promise<void> = Promise.resolve();
  private readonly flow: StreamFlow;
  private readonly log: Logger;

  constructor(
    private readonly call: LinkCall,
    private readonly node: string,
    private readonly ctx: StreamContext,
  ) {
    this.flow = new StreamFlow(call, ctx.flows, ctx.rateLimit, ctx.clock);
    this.log = ctx.logger.child({ node, peer: call.getPeer() });
  }

  /** Starts reading frames. */
  start(): void {
    this.call.on('data', (frame: Buffer) => this.onFrame(frame));
    this.call.on('end', () => this.onEnd());
    this.call.on('error', (error: Error) => this.onClosed(error.message));
    this.call.on('cancelled', () => this.onClosed('cancelled by the agent'));
  }

  /** Ends the stream with a status; safe to call more than once. */
  fail(failure: Failure): void {
    if (this.ended) return;
    this.ended = true;
    this.flow.close();
    this.log.warn(
      { code: Status[failure.code], details: failure.details },
      'agent stream ended with an error',
    );
    this.release(failure.details);
    this.call.emit('error', { code: failure.code, details: failure.details });
  }

  private onFrame(frame: Buffer): void {
    if (this.ended) return;
    this.ctx.fleet.seen(this.node, this.ctx.clock.nowMs());
    const split = splitFrame(frame);
    if (!split.ok) {
      return this.fail({ code: Status.INVALID_ARGUMENT, details: split.error });
    }
    if (!this.opened) {
      if (!this.open(split.value.open)) return;
    } else if (split.value.open !== null) {
      return this.fail({
        code: Status.INVALID_ARGUMENT,
        details: 'open is allowed only in the first frame',
      });
    }
    if (split.value.messages.length > 0)
      this.handleMessages(split.value.messages);
  }

  private open(bytes: Buffer | null): boolean {
    if (this.ctx.closing) {
      this.fail({
        code: Status.UNAVAILABLE,
        details: 'collector is shutting down',
      });
      return false;
    }
    if (bytes === null) {
      this.fail({
        code: Status.INVALID_ARGUMENT,
        details: 'the first frame must carry open',
      });
      return false;
    }
    const open = decodeStreamOpen(this.ctx.proto, bytes);
    if (!open.ok) {
      this.fail({
        code: Status.INVALID_ARGUMENT,
        details: `open.${open.error.field} ${open.error.reason}`,
      });
      return false;
    }
    if (open.value.node !== this.node) {
      this.fail({
        code: Status.PERMISSION_DENIED,
        details: `token is for node ${this.node}, not ${open.value.node}`,
      });
      return false;
    }
    this.opened = true;
    this.ctx.streams.get(this.node)?.fail({
      code: Status.ABORTED,
      details: 'replaced by a newer stream of the same node',
    });
    this.ctx.streams.set(this.node, this);
    this.ctx.fleet.connected(this.node, {
      atMs: this.ctx.clock.nowMs(),
      agentVersion: open.value.agentVersion,
      hello: open.value.hello,
    });
    this.log.info(
      { agentVersion: open.value.agentVersion },
      'agent stream opened',
    );
    this.reply({
      type: 'welcome',
      lastSeq: this.ctx.storedSeq(this.node),
      maxFrameBytes: this.ctx.maxFrameBytes,
    });
    return true;
  }

  private handleMessages(parts: Buffer[]): void {
    const accepted: AcceptedMessage[] = [];
    let highestSeq = 0;
    let duplicates = 0;
    let rejected = 0;
    // Raised for the node only once the whole frame is queued: a fatal
    // message later in the frame drops the earlier ones too, and they
    // must not count as duplicates when the agent sends them again.
    let acceptedSeq =
      this.ctx.accepted.get(this.node) ?? this.ctx.storedSeq(this.node);
    for (const bytes of parts) {
      const outcome = this.check(bytes, acceptedSeq);
      if (outcome.kind === 'fatal') return this.fail(outcome.failure);
      highestSeq = Math.max(highestSeq, outcome.seq);
      if (outcome.kind === 'duplicate') duplicates += 1;
      if (outcome.kind === 'rejected') rejected += 1;
      if (outcome.kind === 'accepted') {
        accepted.push(outcome.accepted);
        acceptedSeq = outcome.seq;
      }
    }
    if (accepted.length > 0) this.ctx.accepted.set(this.node, acceptedSeq);
    this.ctx.fleet.counted(this.node, duplicates, rejected);
    this.queue(accepted, highestSeq);
    this.flow.limitRate(parts.length);
  }

  private check(bytes: Buffer, acceptedSeq: number): CheckOutcome {
    const identities = this.ctx.identities.of(this.node);
    const outcome = this.checkDecoded(bytes, identities, acceptedSeq);
    if (outcome.kind === 'accepted') {
      commitIdentities(identities, outcome.accepted.message);
    } else identities.discard();
    return outcome;
  }

  private checkDecoded(
    bytes: Buffer,
    identities: IdentityMemory,
    acceptedSeq: number,
  ): CheckOutcome {
    const decoded = decodeAgentMessage(this.ctx.proto, bytes, identities);
    if (!decoded.ok) {
      const { field, reason, seq } = decoded.error;
      if (seq === null)
        return {
          kind: 'fatal',
          failure: {
            code: Status.INVALID_ARGUMENT,
            details: `message ${field} ${reason}`,
          },
        };
      return this.reject(seq, `${field} ${reason}`);
    }
    const message = decoded.value;
    if (message.node !== this.node) {
      return {
        kind: 'fatal',
        failure: {
          code: Status.PERMISSION_DENIED,
          details: `message for node ${message.node} on the stream of node ${this.node}`,
        },
      };
    }
    const problem = validateAgentMessage(message, identities);
    if (problem !== null) return this.reject(message.seq, problem);
    if (message.seq <= acceptedSeq)
      return { kind: 'duplicate', seq: message.seq };
    return {
      kind: 'accepted',
      seq: message.seq,
      accepted: { message, seq: message.seq, bytes },
    };
  }

  private reject(seq: number, reason: string): CheckOutcome {
    this.log.warn({ seq, reason }, 'agent message rejected');
    this.reply({ type: 'rejected', seq, reason });
    return { kind: 'rejected', seq };
  }

  /**
   * Applies and stores the accepted messages; acks `highestSeq` once they
   * (and all earlier ones) are both.
   */
  private queue(accepted: AcceptedMessage[], highestSeq: number): void {
    let bytes = 0;
    for (const message of accepted) bytes += message.bytes.length;
    this.flow.add(bytes);
    const messages = accepted.map((a) => a.message);
    const applied = this.ctx.applier.apply(this.node, messages);
    const stored = this.ctx.commits.submit(this.node, accepted);
    // Settled at once, not when the chain reaches it: a failed write must
    // not go unhandled while an earlier frame is still being applied. The
    // bytes stop counting once the journal is done with them, so a sink
    // that is slow for one node does not hold back the others.
    const storedOk = stored.then(
      () => true,
      () => false,
    );
    void storedOk.then(() => this.flow.release(bytes));
    const outcome = storedOk.then(async (ok) =>
      ok
        ? { stored: true, markSeq: await applied }
        : { stored: false, markSeq: null },
    );
    this.chain = this.chain
      .then(() => outcome)
      .then(({ stored: ok, markSeq }) => {
        if (!ok) {
          this.fail({
            code: Status.UNAVAILABLE,
            details: 'collector could not store messages; resend later',
          });
        } else {
          if (markSeq !== null)
            this.ctx.commits.markApplied(this.node, markSeq);
          this.reply({ type: 'ack', seq: highestSeq });
        }
      });
  }

  private reply(reply: CollectorReply): void {
    if (!this.ended) this.call.write(collectorReplyToWire(reply));
  }

  private onEnd(): void {
    void this.chain.then(() => {
      if (this.ended) return;
      this.ended = true;
      this.flow.close();
      this.release(null);
      this.call.end();
    });
  }

  private onClosed(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.flow.close();
    this.release(reason);
  }

  private release(reason: string | null): void {
    if (this.ctx.streams.get(this.node) !== this) return;
    this.ctx.streams.delete(this.node);
    this.ctx.fleet.disconnected(this.node, reason);
    this.log.info({ reason }, 'agent stream closed');
  }
}

/** An accepted message, decoded and as it came. */
interface AcceptedMessage extends StoredMessage {
  message: AgentMessage;
}

type CheckOutcome =
  | { kind: 'fatal'; failure: Failure }
  | { kind: 'duplicate' | 'rejected'; seq: number }
  | { kind: 'accepted'; seq: number; accepted: AcceptedMessage };

/**
 * After a failed journal write of `nodes`: forgets what was accepted from
 * them and ends their streams, so that their agents reconnect and send
 * again from what the journal holds.
 */
export function endFailedNodes(
  ctx: Pick<StreamContext, 'accepted' | 'streams'>,
  nodes: readonly string[],
): void {
  for (const node of nodes) {
    ctx.accepted.delete(node);
    ctx.streams.get(node)?.fail({
      code: Status.UNAVAILABLE,
      details: 'collector could not store messages; resend later',
    });
  }
}

/** Learns the full process entries of an accepted snapshot message. */
export function commitIdentities(
  identities: IdentityMemory,
  message: AgentMessage,
): void {
  if (message.payload.type !== 'snapshot') return identities.discard();
  identities.commit(isoToMs(message.payload.snapshot.takenAt, 'takenAt'));
}
