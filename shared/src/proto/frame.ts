/**
 * Frames (`gpuwarden.v1.AgentFrame`) built from and split into per-message
 * bytes without decoding the messages: field 1 is the stream opening,
 * field 2 repeats the sequenced messages, each as length-delimited bytes.
 * The agent keeps each message's bytes in its outbox and resends them as
 * they are; the collector journals each message's bytes as they came.
 */
import { err, ok } from '../result.ts';
import type { Result } from '../result.ts';

const OPEN_TAG = (1 << 3) | 2;
const MESSAGE_TAG = (2 << 3) | 2;

/** A frame split into its parts, each a view into the frame's buffer. */
export interface SplitFrame {
  open: Buffer | null;
  messages: Buffer[];
}

/** The bytes of a varint. */
function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** Builds a frame from an optional opening and message bytes, in order. */
export function buildFrame(
  open: Buffer | null,
  messages: readonly Buffer[],
): Buffer {
  const parts: Buffer[] = [];
  if (open !== null)
    parts.push(Buffer.from([OPEN_TAG]), varint(open.length), open);
  for (const message of messages) {
    parts.push(Buffer.from([MESSAGE_TAG]), varint(message.length), message);
  }
  return Buffer.concat(parts);
}

/** The size on the wire of a message of `length` bytes inside a frame. */
export function framedLength(length: number): number {
  return 1 + varint(length).length + length;
}

function readVarint(
  buffer: Buffer,
  start: number,
): { value: number; next: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = start; i < buffer.length && i < start + 8; i += 1) {
    const byte = buffer[i]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return { value, next: i + 1 };
    scale *= 128;
  }
  return null;
}

/**
 * Splits a frame into the opening and message bytes; a truncated frame or
 * a field this version does not know is a problem, as a value.
 */
export function splitFrame(frame: Buffer): Result<SplitFrame, string> {
  const result: SplitFrame = { open: null, messages: [] };
  let at = 0;
  while (at < frame.length) {
    const tag = frame[at]!;
    const length = readVarint(frame, at + 1);
    if ((tag !== OPEN_TAG && tag !== MESSAGE_TAG) || length === null) {
      return err(`frame has an unknown field at byte ${at}`);
    }
    const end = length.next + length.value;
    if (end > frame.length) return err(`frame is truncated at byte ${at}`);
    const part = frame.subarray(length.next, end);
    if (tag === OPEN_TAG) result.open = part;
    else result.messages.push(part);
    at = end;
  }
  return ok(result);
}
