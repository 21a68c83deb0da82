/**
 * AgentMessage ⇄ protobuf bytes, and the collector's answers ⇄ gpuwarden
 * values. Decoding checks what the type system of the wire cannot (exact
 * 64-bit integers, known enum values, JSON details) and returns problems as
 * values; `validate-message.ts` then checks ranges.
 */
import type { AgentMessage, AgentPayload, Hello } from '../messages.ts';
import { err, ok } from '../result.ts';
import type { Result } from '../result.ts';
import type { LinkProto } from './link-proto.ts';
import {
  guardFromWire,
  guardToWire,
  healthFromWire,
  healthToWire,
  helloFromWire,
  helloToWire,
  sliFromWire,
  sliToWire,
} from './event-codec.ts';
import type { IdentityMemory } from './identity-memory.ts';
import type { IdentityElider } from './process-identity.ts';
import { snapshotFromWire, snapshotToWire } from './snapshot-codec.ts';
import { readSnapshotMessage } from './snapshot-reader.ts';
import { toSafeInteger, WireProblem } from './wire-values.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- wire objects are
   protobufjs messages whose shape the .proto file defines. */
type Wire = any;

/** A decoding failure: the field and what was wrong with it. */
export interface DecodeProblem {
  field: string;
  reason: string;
  /** The message's seq when the bytes were readable that far; else null. */
  seq: number | null;
}

/** What the collector says down the stream. */
export type CollectorReply =
  | { type: 'welcome'; lastSeq: number; maxFrameBytes: number }
  | { type: 'ack'; seq: number }
  | { type: 'rejected'; seq: number; reason: string };

/** The first frame's content: who the agent is. */
export interface StreamOpen {
  node: string;
  agentVersion: string;
  hello: Hello | null;
}

function payloadToWire(
  payload: AgentPayload,
  elider: IdentityElider | null,
): Wire {
  switch (payload.type) {
    case 'hello':
      return { hello: helloToWire(payload.hello) };
    case 'snapshot':
      return { snapshot: snapshotToWire(payload.snapshot, elider) };
    case 'sli':
      return { sli: sliToWire(payload.sli) };
    case 'guard':
      return { guard: guardToWire(payload.guard) };
    case 'health':
      return { health: healthToWire(payload.health) };
  }
}

function payloadFromWire(
  wire: Wire,
  proto: LinkProto,
  identities: IdentityMemory | null,
): AgentPayload {
  switch (wire.payload) {
    case 'hello':
      return { type: 'hello', hello: helloFromWire(wire.hello) };
    case 'snapshot':
      return {
        type: 'snapshot',
        snapshot: snapshotFromWire(wire.snapshot, proto.isoByMs, identities),
      };
    case 'sli':
      return { type: 'sli', sli: sliFromWire(wire.sli) };
    case 'guard':
      return { type: 'guard', guard: guardFromWire(wire.guard) };
    case 'health':
      return { type: 'health', health: healthFromWire(wire.health) };
    default:
      throw new WireProblem('payload', 'is missing');
  }
}

/**
 * Encodes one message as `gpuwarden.v1.AgentMessage` bytes. Throws a
 * {@link WireProblem} for values the wire cannot carry (an unparsable ISO
 * time, an unknown enum value): those are bugs of the sender. With an
 * `elider`, snapshot entries the collector already knows leave their
 * identity out (`process-identity.ts`); messages must then be encoded in
 * seq order.
 */
export function encodeAgentMessage(
  proto: LinkProto,
  message: AgentMessage,
  elider: IdentityElider | null = null,
): Buffer {
  const wire = agentMessageToWire(message, elider);
  const bytes = proto.types.agentMessage.encode(wire).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A message as the object protobufjs encodes; throws WireProblem. */
export function agentMessageToWire(
  message: AgentMessage,
  elider: IdentityElider | null = null,
): Wire {
  return {
    node: message.node,
    seq: message.seq,
    sentAtMs: message.sentAtMs,
    ...payloadToWire(message.payload, elider),
  };
}

/**
 * Decodes `gpuwarden.v1.AgentMessage` bytes; problems come back as values.
 * Well-formed snapshot messages take a one-pass reader
 * (`snapshot-reader.ts`); everything else, and every problem, goes
 * through protobufjs. `identities` is the sending node's memory of process
 * identities: entries that left theirs out are filled in from it, and
 * full entries are staged in it for the caller to commit or discard.
 */
export function decodeAgentMessage(
  proto: LinkProto,
  bytes: Uint8Array,
  identities: IdentityMemory | null = null,
): Result<AgentMessage, DecodeProblem> {
  const fast = readSnapshotMessage(bytes, proto, identities);
  return fast === null ? decodeGeneral(proto, bytes, identities) : ok(fast);
}

/** The general path of {@link decodeAgentMessage}, through protobufjs. */
export function decodeGeneral(
  proto: LinkProto,
  bytes: Uint8Array,
  identities: IdentityMemory | null = null,
): Result<AgentMessage, DecodeProblem> {
  let wire: Wire;
  let seq: number;
  try {
    wire = proto.types.agentMessage.decode(bytes);
    seq = toSafeInteger(wire.seq, 'seq');
  } catch (error) {
    return err(toProblem(error, null));
  }
  try {
    return ok({
      node: wire.node,
      seq,
      sentAtMs: toSafeInteger(wire.sentAtMs, 'sentAtMs'),
      payload: payloadFromWire(wire, proto, identities),
    });
  } catch (error) {
    identities?.discard();
    return err(toProblem(error, seq));
  }
}

/** Encodes the stream's opening (`gpuwarden.v1.StreamOpen`). */
export function encodeStreamOpen(proto: LinkProto, open: StreamOpen): Buffer {
  const wire = {
    node: open.node,
    agentVersion: open.agentVersion,
    hello: open.hello === null ? null : helloToWire(open.hello),
  };
  const bytes = proto.types.streamOpen.encode(wire).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes a `gpuwarden.v1.StreamOpen`; problems come back as values. */
export function decodeStreamOpen(
  proto: LinkProto,
  bytes: Uint8Array,
): Result<StreamOpen, DecodeProblem> {
  try {
    const wire: Wire = proto.types.streamOpen.decode(bytes);
    return ok({
      node: wire.node,
      agentVersion: wire.agentVersion,
      hello: Object.hasOwn(wire, 'hello') ? helloFromWire(wire.hello) : null,
    });
  } catch (error) {
    return err(toProblem(error, null));
  }
}

/** A reply as the object the gRPC service serializes. */
export function collectorReplyToWire(reply: CollectorReply): Wire {
  switch (reply.type) {
    case 'welcome':
      return {
        welcome: { lastSeq: reply.lastSeq, maxFrameBytes: reply.maxFrameBytes },
      };
    case 'ack':
      return { ack: { seq: reply.seq } };
    case 'rejected':
      return { rejected: { seq: reply.seq, reason: reply.reason } };
  }
}

/**
 * A reply as proto-loader deserialized it (longs as strings, `body` naming
 * the oneof); null when it carries nothing this version knows.
 */
export function collectorReplyFromWire(wire: Wire): CollectorReply | null {
  try {
    if (wire.welcome) {
      return {
        type: 'welcome',
        lastSeq: toSafeInteger(wire.welcome.lastSeq ?? 0, 'lastSeq'),
        maxFrameBytes: toSafeInteger(wire.welcome.maxFrameBytes ?? 0, 'max'),
      };
    }
    if (wire.ack) {
      return { type: 'ack', seq: toSafeInteger(wire.ack.seq ?? 0, 'seq') };
    }
    if (wire.rejected) {
      return {
        type: 'rejected',
        seq: toSafeInteger(wire.rejected.seq ?? 0, 'seq'),
        reason: String(wire.rejected.reason ?? ''),
      };
    }
  } catch {
    // An unreadable reply is ignored like an unknown one: the agent keeps
    // its messages until an ack it can read arrives.
  }
  return null;
}

function toProblem(error: unknown, seq: number | null): DecodeProblem {
  if (error instanceof WireProblem) {
    return { field: error.field, reason: error.reason, seq };
  }
  const text = error instanceof Error ? error.message : String(error);
  return { field: '(bytes)', reason: `cannot be decoded: ${text}`, seq };
}
