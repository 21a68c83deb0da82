/** Small helpers for JSON over node:http: bodies with limits, errors. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Sends `body` as JSON with `status`. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Sends a JSON error `{ error: { status, message } }`. */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
): void {
  sendJson(res, status, { error: { status, message } });
}

/** Sends text with a content type. */
export function sendText(
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string | Buffer,
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** A read body, or why it could not be read. */
export type BodyResult =
  | { ok: true; body: Record<string, unknown> }
  | { ok: false; status: 400 | 413 | 415; message: string };

/**
 * Reads a JSON object body. An empty body is `{}`. Never throws.
 */
export async function readJsonBody(req: IncomingMessage): Promise<BodyResult> {
  const type = req.headers['content-type'] ?? '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      return {
        ok: false,
        status: 413,
        message: `body larger than ${MAX_BODY_BYTES} bytes`,
      };
    }
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return { ok: true, body: {} };
  if (!type.includes('application/json')) {
    return {
      ok: false,
      status: 415,
      message: 'send the body as application/json',
    };
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (
      parsed === null ||
      typeof parsed !== 'object' ||
      Array.isArray(parsed)
    ) {
      return { ok: false, status: 400, message: 'body must be a JSON object' };
    }
    return { ok: true, body: parsed as Record<string, unknown> };
  } catch {
    return { ok: false, status: 400, message: 'body is not valid JSON' };
  }
}
