/**
 * Gin's request lines as Ollama writes them (gin v1.9.1 and v1.10.0, and
 * the v1.12 layout, keyed on the `|` separators rather than columns):
 *
 *   [GIN] 2026/03/02 - 14:02:40 | 200 |  2.305118442s |  10.0.4.21 | POST     "/api/chat"
 *
 * The stamp is the request's completion time in the server's local zone.
 */
import { parseGoDurationMs } from './go-duration.ts';
import type { LocalToUtc } from './zoned-time.ts';

/** One request Ollama served, as its log line tells it. */
export interface GinRequest {
  /** Completion time, epoch milliseconds (UTC). */
  completedAtMs: number;
  /** HTTP status. */
  status: number;
  /** Handler time: queue wait, load, prompt and generation. */
  latencyMs: number;
  clientIp: string;
  method: string;
  /** Path without the query string. */
  path: string;
}

/** What one line turned out to be. */
export type GinParse =
  | { kind: 'request'; request: GinRequest }
  | { kind: 'malformed'; reason: string }
  | { kind: 'not_gin' };

// eslint-disable-next-line no-control-regex -- colour codes start with ESC
const ANSI = /\x1b\[[0-9;]*m/g;
const STAMP = /^(\d{4})\/(\d{2})\/(\d{2}) - (\d{2}):(\d{2}):(\d{2})$/;
// Method and quoted path close the line; the path itself may hold `|`.
const METHOD_PATH = /\|\s*([A-Z]+)\s+("(?:[^"\\]|\\.)*")\s*$/;

/** Removes terminal colour codes (Gin colours its output on a TTY). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/**
 * Parses a Gin request line; text before `[GIN] ` (a journald prefix) is
 * ignored. `completedAtMs` is `stampMs` when given (a journal's receive
 * time), else the line's local stamp converted with `toUtc`.
 */
export function parseGinLine(
  line: string,
  toUtc: LocalToUtc,
  stampMs: number | null = null,
): GinParse {
  const clean = stripAnsi(line);
  const at = clean.indexOf('[GIN] ');
  if (at === -1) return { kind: 'not_gin' };
  const rest = clean.slice(at + 6);
  const methodPath = METHOD_PATH.exec(rest);
  if (!methodPath) return malformed('bad method and path');
  const parts = rest
    .slice(0, methodPath.index)
    .split('|')
    .map((part) => part.trim());
  if (parts.length < 4) return malformed('fewer than 5 fields');

  const stamp = STAMP.exec(parts[0] ?? '');
  const status = /^\d{3}$/.test(parts[1] ?? '') ? Number(parts[1]) : null;
  const latencyMs = parseGoDurationMs(parts[2] ?? '');
  if (!stamp) return malformed('bad time stamp');
  if (status === null) return malformed('bad status');
  if (latencyMs === null) return malformed('bad latency');

  const [, y, mo, d, h, mi, s] = stamp.map(Number);
  const completedAtMs =
    stampMs ??
    toUtc({
      year: y ?? 0,
      month: mo ?? 1,
      day: d ?? 1,
      hour: h ?? 0,
      minute: mi ?? 0,
      second: s ?? 0,
    });
  const request: GinRequest = {
    completedAtMs,
    status,
    latencyMs,
    clientIp: parts[parts.length - 1] ?? '',
    method: methodPath[1] ?? '',
    path: unquotePath(methodPath[2] ?? '""'),
  };
  return { kind: 'request', request };
}

function malformed(reason: string): GinParse {
  return { kind: 'malformed', reason };
}

function unquotePath(quoted: string): string {
  let path: string;
  try {
    path = JSON.parse(quoted) as string;
  } catch {
    // Go quoting has escapes JSON lacks (\x7f); the raw text is close enough.
    path = quoted.slice(1, -1);
  }
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

/** Endpoints that serve inference: the only ones the SLI counts. */
export const SLI_ENDPOINTS: readonly string[] = [
  '/api/generate',
  '/api/chat',
  '/api/embed',
  '/api/embeddings',
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
];

/**
 * How a request counts for the SLI: `excluded` (housekeeping such as
 * `/api/ps`, `HEAD /`, CORS preflight, or a client error other than 499),
 * `failed` (499: the client gave up waiting; any 5xx) or `served`.
 */
export type RequestVerdict = 'excluded' | 'client_error' | 'failed' | 'served';

/** Classifies a request for the SLI (research/ollama.md §2.2). */
export function judgeRequest(request: GinRequest): RequestVerdict {
  if (request.method !== 'POST' || !SLI_ENDPOINTS.includes(request.path)) {
    return 'excluded';
  }
  if (request.status === 499 || request.status >= 500) return 'failed';
  if (request.status >= 400) return 'client_error';
  return 'served';
}
