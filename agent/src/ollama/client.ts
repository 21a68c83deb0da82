/**
 * A small client for Ollama's HTTP API over an injectable `fetch`. Every
 * call has a timeout (an `AbortSignal`), and every expected failure comes
 * back as a value: refused, timeout, an HTTP error, a network error or an
 * answer that is not what the API documents.
 */
import { err, ok } from '../../../shared/src/result.ts';
import type { Result } from '../../../shared/src/result.ts';
import { parseGenerate, parsePs, parseTags, parseVersion } from './api.ts';
import type { GenerateResult, PulledModel, RunningModel } from './api.ts';

/** The part of a fetch `Response` the client reads. */
export interface FetchResponse {
  status: number;
  text(): Promise<string>;
}

/** The part of `fetch` the client uses; the global one fits. */
export type FetchPort = (
  url: string,
  init: {
    method: string;
    headers?: Record<string, string>;
    body?: string;
    signal: AbortSignal;
  },
) => Promise<FetchResponse>;

/** Why a call failed. */
export type OllamaFailureKind =
  'refused' | 'timeout' | 'http' | 'network' | 'bad_response';

/** An expected failure of one API call. */
export interface OllamaFailure {
  kind: OllamaFailureKind;
  /** HTTP status for `http`; `null` otherwise. */
  status: number | null;
  /** One line for people (Ollama's own `error` text for `http`). */
  message: string;
}

/** Options of {@link OllamaClient}. */
export interface OllamaClientOptions {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:11434`. */
  url: string;
  /** Per-call timeout for the small GET calls, ms. */
  timeoutMs: number;
}

/** Calls Ollama's API; never throws for network or server trouble. */
export class OllamaClient {
  constructor(
    private readonly options: OllamaClientOptions,
    private readonly deps: { fetch: FetchPort; nowMs: () => number },
  ) {}

  /** `GET /api/version`: the server's version string. */
  async version(): Promise<Result<string, OllamaFailure>> {
    const body = await this.call('GET', '/api/version', null);
    return body.ok ? present(parseVersion(body.value), 'version') : body;
  }

  /** `GET /api/ps`: the loaded models, latest-expiring first. */
  async ps(): Promise<Result<RunningModel[], OllamaFailure>> {
    const body = await this.call('GET', '/api/ps', null);
    if (!body.ok) return body;
    return present(parsePs(body.value, this.deps.nowMs()), 'model list');
  }

  /** `GET /api/tags`: the pulled models. */
  async tags(): Promise<Result<PulledModel[], OllamaFailure>> {
    const body = await this.call('GET', '/api/tags', null);
    return body.ok ? present(parseTags(body.value), 'model list') : body;
  }

  /** `POST /api/generate` with `stream: false`, under its own timeout. */
  async generate(
    request: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<Result<GenerateResult, OllamaFailure>> {
    const payload = { ...request, stream: false };
    const body = await this.call('POST', '/api/generate', payload, timeoutMs);
    return body.ok ? present(parseGenerate(body.value), 'final object') : body;
  }

  private async call(
    method: string,
    path: string,
    payload: unknown,
    timeoutMs = this.options.timeoutMs,
  ): Promise<Result<unknown, OllamaFailure>> {
    let status: number;
    let text: string;
    try {
      const response = await this.deps.fetch(`${this.options.url}${path}`, {
        method,
        headers: payload === null ? {} : { 'content-type': 'application/json' },
        body: payload === null ? undefined : JSON.stringify(payload),
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      return err(classifyFetchError(error, timeoutMs));
    }
    return readBody(status, text);
  }
}

function readBody(
  status: number,
  text: string,
): Result<unknown, OllamaFailure> {
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  if (status < 200 || status >= 300) {
    const said = (body as { error?: unknown } | null)?.error;
    const message = typeof said === 'string' ? said : `HTTP ${status}`;
    return err({ kind: 'http', status, message });
  }
  if (body === null) {
    return err({ kind: 'bad_response', status: null, message: 'not JSON' });
  }
  return ok(body);
}

function present<T>(value: T | null, what: string): Result<T, OllamaFailure> {
  if (value !== null) return ok(value);
  const message = `answer has no ${what}`;
  return err({ kind: 'bad_response', status: null, message });
}

/**
 * Sorts what `fetch` threw: an abort or undici timeout is `timeout`,
 * ECONNREFUSED is `refused` (nothing listens), the rest `network`.
 */
export function classifyFetchError(
  error: unknown,
  timeoutMs: number,
): OllamaFailure {
  const name = (error as { name?: unknown } | null)?.name;
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : null;
  if (
    name === 'TimeoutError' ||
    name === 'AbortError' ||
    /TIMEOUT/.test(code ?? '')
  ) {
    return {
      kind: 'timeout',
      status: null,
      message: `no answer within ${timeoutMs} ms`,
    };
  }
  if (code === 'ECONNREFUSED') {
    return { kind: 'refused', status: null, message: 'connection refused' };
  }
  const text = error instanceof Error ? error.message : String(error);
  return {
    kind: 'network',
    status: null,
    message: code ? `${text} (${code})` : text,
  };
}
