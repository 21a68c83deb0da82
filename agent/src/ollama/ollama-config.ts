/**
 * The `ollama` section of the agent config: where Ollama listens, which
 * model to watch, how to probe it, where its log is, and what counts as
 * slow. Every key is optional; see docs/ollama.md for the table.
 */
import type { ConfigNode } from '../../../shared/src/config.ts';
import { LATENCY_BOUNDS_MS } from '../../../shared/src/messages.ts';
import { isKnownTimeZone } from './zoned-time.ts';

/** Ollama's default listen address. */
export const DEFAULT_OLLAMA_URL = 'http://127.0.0.1:11434';

/** A request slower than this is bad (DESIGN §3.4). */
export const DEFAULT_LATENCY_THRESHOLD_MS = 2000;

/** Sampling options a probe may send: none of them reloads the runner. */
export const PROBE_SAFE_OPTIONS: readonly string[] = [
  'num_predict',
  'temperature',
  'seed',
  'top_k',
  'top_p',
  'min_p',
  'typical_p',
  'repeat_last_n',
  'repeat_penalty',
  'presence_penalty',
  'frequency_penalty',
  'stop',
];

/** A probe option value as Ollama accepts it. */
export type ProbeOptionValue = number | string | boolean | string[];

/** Where the request log comes from. */
export type OllamaLogSource = 'journald' | 'file' | 'none';

/** The synthetic latency probe. */
export interface ProbeConfig {
  /** `ollama.probe.enabled`; default true. */
  enabled: boolean;
  /** `ollama.probe.interval`; default 30 s. */
  intervalMs: number;
  /** `ollama.probe.timeout`: a probe slower than this failed; default 30 s. */
  timeoutMs: number;
  /** `ollama.probe.prompt`; default `Reply with OK.` */
  prompt: string;
  /** `ollama.probe.options`, over `num_predict: 1, temperature: 0, seed: 7`. */
  options: Record<string, ProbeOptionValue>;
  /** `ollama.probe.think`: sent as `think` when set (false for thinking models); default unset. */
  think: boolean | null;
}

/** Ollama's request and load log. */
export interface OllamaLogConfig {
  /** `ollama.log.source`; default `journald`. */
  source: OllamaLogSource;
  /** `ollama.log.unit`: the journald unit; default `ollama`. */
  unit: string;
  /** `ollama.log.path`: the file for `source: file`. */
  path: string | null;
  /** `ollama.log.timeZone`: IANA zone of Gin's stamps; default the host's. */
  timeZone: string | null;
}

/** The validated `ollama` section. */
export interface OllamaConfig {
  /** `ollama.enabled`; default true. */
  enabled: boolean;
  /** `ollama.url`; default `http://127.0.0.1:11434`. */
  url: string;
  /** `ollama.model`: the model to watch; default null = any resident one. */
  model: string | null;
  /** `ollama.timeout`: per API call (`/api/ps`, `/api/version`); default 2 s. */
  requestTimeoutMs: number;
  /** `ollama.pollInterval`: `/api/ps` and liveness; default 5 s. */
  pollIntervalMs: number;
  /** `ollama.latencyThreshold`: one of the SLI bucket bounds; default 2 s. */
  latencyThresholdMs: number;
  /** `ollama.sliInterval`: request log aggregation; default 60 s. */
  sliIntervalMs: number;
  /** `ollama.unit`: systemd unit telling whether Ollama should be up; default `ollama`, null to skip. */
  unit: string | null;
  /** `ollama.reloadWarning`: warn when `expires_at` is this close; default 2 min. */
  reloadWarningMs: number;
  /** `ollama.harmWindow`: how far back harm signals look; default 5 min. */
  harmWindowMs: number;
  probe: ProbeConfig;
  log: OllamaLogConfig;
}

/**
 * Validates the `ollama` section (absent means all defaults).
 *
 * @throws ConfigError naming the field, the rule and the value that came.
 */
export function parseOllamaConfig(node: ConfigNode): OllamaConfig {
  const enabled = node.boolean('enabled', true);
  const url = readUrl(node);
  const model = node.optionalString('model');
  const requestTimeoutMs = node.durationMs('timeout', '2s', { minMs: 100 });
  const pollIntervalMs = node.durationMs('pollInterval', '5s', { minMs: 500 });
  const latencyThresholdMs = readThreshold(node);
  const sliIntervalMs = node.durationMs('sliInterval', '60s', { minMs: 1000 });
  const unit = node.has('unit') ? node.string('unit') : readNullUnit(node);
  const reloadWarningMs = node.durationMs('reloadWarning', '2m');
  const harmWindowMs = node.durationMs('harmWindow', '5m', { minMs: 10_000 });
  const probe = parseProbe(node.child('probe'));
  const log = parseLog(node.child('log'));

  node.done();
  return {
    enabled,
    url,
    model,
    requestTimeoutMs,
    pollIntervalMs,
    latencyThresholdMs,
    sliIntervalMs,
    unit,
    reloadWarningMs,
    harmWindowMs,
    probe,
    log,
  };
}

function readUrl(node: ConfigNode): string {
  const url = node.string('url', DEFAULT_OLLAMA_URL);
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol)) {
    node.fail('url', 'must be an http:// or https:// URL', url);
  }
  return url.replace(/\/+$/, '');
}

// `unit: null` switches the systemd check off; absent means the default.
function readNullUnit(node: ConfigNode): string | null {
  const explicitNull = node.raw('unit') === null;
  return explicitNull ? null : 'ollama';
}

function readThreshold(node: ConfigNode): number {
  const thresholdMs = node.durationMs(
    'latencyThreshold',
    `${DEFAULT_LATENCY_THRESHOLD_MS}ms`,
  );
  if (!LATENCY_BOUNDS_MS.includes(thresholdMs)) {
    const bounds = LATENCY_BOUNDS_MS.map((ms) => `${ms}ms`).join(', ');
    node.fail('latencyThreshold', `must be one of ${bounds}`, thresholdMs);
  }
  return thresholdMs;
}

function parseProbe(node: ConfigNode): ProbeConfig {
  const enabled = node.boolean('enabled', true);
  const intervalMs = node.durationMs('interval', '30s', { minMs: 1000 });
  const timeoutMs = node.durationMs('timeout', '30s', { minMs: 100 });
  const prompt = node.string('prompt', 'Reply with OK.');
  const think = node.has('think')
    ? node.boolean('think')
    : (node.raw('think'), null);
  const options = parseProbeOptions(node);

  node.done();
  return { enabled, intervalMs, timeoutMs, prompt, options, think };
}

function parseProbeOptions(node: ConfigNode): Record<string, ProbeOptionValue> {
  const options: Record<string, ProbeOptionValue> = {
    num_predict: 1,
    temperature: 0,
    seed: 7,
  };
  const given = node.child('options');
  for (const key of Object.keys((node.raw('options') ?? {}) as object)) {
    if (!PROBE_SAFE_OPTIONS.includes(key)) {
      given.fail(
        key,
        `is not a sampling option a probe may send (runner options such as num_ctx or num_gpu force a model reload); use one of ${PROBE_SAFE_OPTIONS.join(', ')}`,
        given.raw(key),
      );
    }
    options[key] = readOptionValue(given, key);
  }
  given.done();
  return options;
}

function readOptionValue(node: ConfigNode, key: string): ProbeOptionValue {
  const value = node.raw(key);
  if (key === 'stop') return node.stringList(key);
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  return node.fail(key, 'must be a number', value);
}

function parseLog(node: ConfigNode): OllamaLogConfig {
  const source = node.oneOf<OllamaLogSource>(
    'source',
    ['journald', 'file', 'none'],
    'journald',
  );
  const unit = node.string('unit', 'ollama');
  const path = node.optionalString('path');
  const timeZone = node.optionalString('timeZone');
  if (source === 'file' && path === null) {
    node.fail('path', 'must name the log file when log.source is file', path);
  }
  if (timeZone !== null && !isKnownTimeZone(timeZone)) {
    node.fail(
      'timeZone',
      'must be an IANA time zone like Europe/Berlin or UTC',
      timeZone,
    );
  }

  node.done();
  return { source, unit, path, timeZone };
}
