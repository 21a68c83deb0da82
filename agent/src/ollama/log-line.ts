/**
 * One line of Ollama's log, whatever its source (journald JSON, a log file,
 * a journalctl text export), sorted into what the monitor uses: a request
 * for the SLI, a load fact for health, or something to count and skip.
 */
import { judgeRequest, parseGinLine, stripAnsi } from './gin-line.ts';
import type { GinRequest, RequestVerdict } from './gin-line.ts';
import { parseLoadLine } from './load-lines.ts';
import type { LoadEvidence } from './load-lines.ts';
import type { LocalToUtc } from './zoned-time.ts';

/** A line as a log source delivers it. */
export interface RawLogLine {
  text: string;
  /** Epoch ms the source stamped it with (journald); `null` for files. */
  stampMs: number | null;
}

/** What a line is. */
export type LogLineKind =
  | { kind: 'request'; request: GinRequest; verdict: RequestVerdict }
  | { kind: 'load'; atMs: number | null; evidence: LoadEvidence }
  | { kind: 'malformed'; reason: string }
  | { kind: 'other' };

/** Longer lines are not Ollama's request or load lines; they are skipped. */
export const MAX_LINE_CHARS = 16_384;

/** Sorts one line; never throws, whatever the bytes. */
export function classifyLogLine(
  line: RawLogLine,
  toUtc: LocalToUtc,
): LogLineKind {
  if (line.text.length > MAX_LINE_CHARS) {
    const isGin = line.text.includes('[GIN] ');
    return isGin
      ? { kind: 'malformed', reason: 'line too long' }
      : { kind: 'other' };
  }
  const text = stripAnsi(line.text);
  const gin = parseGinLine(text, toUtc, line.stampMs);
  if (gin.kind === 'request') {
    const { request } = gin;
    return { kind: 'request', request, verdict: judgeRequest(request) };
  }
  if (gin.kind === 'malformed') return gin;

  const load = parseLoadLine(text);
  if (load) {
    const atMs = line.stampMs ?? load.atMs;
    return { kind: 'load', atMs, evidence: load.evidence };
  }
  return { kind: 'other' };
}

/**
 * Reads one `journalctl -o json` entry: `MESSAGE` (a string, or an array
 * of bytes when the text held control characters such as colour codes)
 * and `__REALTIME_TIMESTAMP` (microseconds, UTC). `null` when the entry is
 * not JSON or has no message.
 */
export function parseJournalEntry(json: string): RawLogLine | null {
  let entry: unknown;
  try {
    entry = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof entry !== 'object' || entry === null) return null;
  const record = entry as Record<string, unknown>;
  const text = messageText(record.MESSAGE);
  if (text === null) return null;
  const micros = Number(record.__REALTIME_TIMESTAMP);
  const stampMs = Number.isFinite(micros) ? Math.floor(micros / 1000) : null;
  return { text, stampMs };
}

function messageText(message: unknown): string | null {
  if (typeof message === 'string') return message;
  const isBytes =
    Array.isArray(message) &&
    message.every((b) => Number.isInteger(b) && b >= 0 && b <= 255);
  return isBytes ? Buffer.from(message as number[]).toString('utf8') : null;
}
