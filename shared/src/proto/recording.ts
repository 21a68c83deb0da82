/**
 * The `--record` file format: one {@link AgentMessage} per line as JSON
 * (the TypeScript shape of `shared/src/messages.ts`, not the protobuf
 * one), in the order the agent sent them. `gpuwarden-collector replay`
 * reads it back with {@link parseRecording}, which checks every line the
 * way the collector checks a message off the wire.
 */
import type { AgentMessage } from '../messages.ts';
import type { LinkProto } from './link-proto.ts';
import {
  agentMessageToWire,
  decodeAgentMessage,
  encodeAgentMessage,
} from './message-codec.ts';
import { validateAgentMessage } from './validate-message.ts';
import { WireProblem } from './wire-values.ts';

/** A line that could not be read, 1-based. */
export interface RecordingProblem {
  line: number;
  reason: string;
}

/** The messages of a recording and the lines that were refused. */
export interface ParsedRecording {
  messages: AgentMessage[];
  problems: RecordingProblem[];
}

const PAYLOAD_TYPES = ['hello', 'snapshot', 'sli', 'guard', 'health'];

/** One message as a recording line, newline included. */
export function formatRecordingLine(message: AgentMessage): string {
  return `${JSON.stringify(message)}\n`;
}

/**
 * Parses a recording. Blank lines are skipped; a line that is not a valid
 * message (bad JSON, wrong shape, out of range) becomes a problem and the
 * rest is still read, so one torn last line after a crash loses one line.
 */
export function parseRecording(
  proto: LinkProto,
  text: string,
): ParsedRecording {
  const result: ParsedRecording = { messages: [], problems: [] };
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const parsed = parseRecordingLine(proto, line);
    if (typeof parsed === 'string') {
      result.problems.push({ line: i + 1, reason: parsed });
    } else {
      result.messages.push(parsed);
    }
  });
  return result;
}

/** One line as a message, or why it is not one. */
export function parseRecordingLine(
  proto: LinkProto,
  line: string,
): AgentMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'is not JSON';
  }
  const shape = checkShape(value);
  if (shape !== null) return shape;
  return normalize(proto, value as AgentMessage);
}

function checkShape(value: unknown): string | null {
  if (value === null || typeof value !== 'object') return 'is not an object';
  const message = value as Record<string, unknown>;
  if (typeof message.node !== 'string') return 'node must be a string';
  if (typeof message.seq !== 'number') return 'seq must be a number';
  if (typeof message.sentAtMs !== 'number') return 'sentAtMs must be a number';
  const payload = message.payload as Record<string, unknown> | undefined;
  const type = payload?.type;
  if (typeof type !== 'string' || !PAYLOAD_TYPES.includes(type)) {
    return `payload.type must be one of ${PAYLOAD_TYPES.join(', ')}`;
  }
  const body = payload?.[type];
  if (body === null || typeof body !== 'object') {
    return `payload.${type} must be an object`;
  }
  return null;
}

/** Sends the message through the wire codec and the range checks. */
function normalize(
  proto: LinkProto,
  message: AgentMessage,
): AgentMessage | string {
  try {
    const typeProblem = proto.types.agentMessage.verify(
      agentMessageToWire(message),
    );
    if (typeProblem !== null) return typeProblem;
    const decoded = decodeAgentMessage(
      proto,
      encodeAgentMessage(proto, message),
    );
    if (!decoded.ok) return `${decoded.error.field} ${decoded.error.reason}`;
    return validateAgentMessage(decoded.value) ?? decoded.value;
  } catch (error) {
    if (error instanceof WireProblem) return error.message;
    return `cannot be encoded: ${(error as Error).message}`;
  }
}
