/**
 * The `incidents` section of the collector config: lifecycle timing,
 * evidence lookback, notification channels and their retry policy, and the
 * postmortem footer. Validated at start; every error names the field.
 */
import type { ConfigNode } from '../../../shared/src/config.ts';
import type { NotificationEventKind } from './incident.ts';
import { DEFAULT_POSTMORTEM_FOOTER } from './postmortem.ts';

/** Kinds of notification channels. */
export type NotificationChannelType = 'webhook' | 'slack' | 'ntfy';

/** One notification channel. */
export interface NotificationChannel {
  type: NotificationChannelType;
  /** Where to POST; only these URLs are ever contacted. */
  url: string;
  /** Events this channel gets; all four by default. */
  events: NotificationEventKind[];
  /** Extra request headers. */
  headers: Record<string, string>;
  /** File holding a bearer token, read at each send; null for none. */
  tokenFile: string | null;
}

/** How failed deliveries are retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included. Default 5. */
  attempts: number;
  /** Wait before the second attempt, ms; doubles each time. Default 1 s. */
  initialBackoffMs: number;
  /** Longest wait between attempts, ms. Default 1 min. */
  maxBackoffMs: number;
  /** Time limit of one attempt, ms. Default 10 s. */
  timeoutMs: number;
}

/** The validated `incidents` section. */
export interface IncidentsConfig {
  /** Clear time before an incident resolves, ms. Default 15 min. */
  holdMs: number;
  /** A firing this soon after resolving reopens it, ms. Default 1 h. */
  reopenWindowMs: number;
  /** Evidence gathered from before the open, ms. Default 1 h. */
  evidenceLookbackMs: number;
  /** Base URL of the collector's web UI, used in links; null for none. */
  externalUrl: string | null;
  notifications: NotificationChannel[];
  retry: RetryPolicy;
  /** Italic footer line of every postmortem. */
  postmortemFooter: string;
}

/** Every notification event, the default subscription. */
export const ALL_NOTIFICATION_EVENTS: readonly NotificationEventKind[] = [
  'opened',
  'escalated',
  'reopened',
  'resolved',
];

/** Reads and validates the `incidents` section; throws `ConfigError`. */
export function parseIncidentsConfig(node: ConfigNode): IncidentsConfig {
  const retry = node.child('retry');
  const config: IncidentsConfig = {
    holdMs: node.durationMs('holdPeriod', '15m', { minMs: 0 }),
    reopenWindowMs: node.durationMs('reopenWindow', '1h', { minMs: 0 }),
    evidenceLookbackMs: node.durationMs('evidenceLookback', '1h', {
      minMs: 0,
    }),
    externalUrl: optionalUrl(node, 'externalUrl'),
    notifications: node.children('notifications').map(parseChannel),
    retry: {
      attempts: retry.number('attempts', 5, { min: 1, max: 20, integer: true }),
      initialBackoffMs: retry.durationMs('initialBackoff', '1s', { minMs: 1 }),
      maxBackoffMs: retry.durationMs('maxBackoff', '1m', { minMs: 1 }),
      timeoutMs: retry.durationMs('timeout', '10s', { minMs: 1 }),
    },
    postmortemFooter: node.string(
      'postmortemFooter',
      DEFAULT_POSTMORTEM_FOOTER,
    ),
  };
  retry.done();
  node.done();
  return config;
}

function parseChannel(node: ConfigNode): NotificationChannel {
  const channel: NotificationChannel = {
    type: node.oneOf('type', ['webhook', 'slack', 'ntfy'] as const),
    url: requiredUrl(node, 'url'),
    events: parseEvents(node),
    headers: parseHeaders(node),
    tokenFile: node.optionalString('tokenFile'),
  };
  node.done();
  return channel;
}

function parseEvents(node: ConfigNode): NotificationEventKind[] {
  const events = node.stringList('events', ALL_NOTIFICATION_EVENTS);
  for (const event of events) {
    if (!ALL_NOTIFICATION_EVENTS.includes(event as NotificationEventKind)) {
      node.fail(
        'events',
        `must list only ${ALL_NOTIFICATION_EVENTS.join(', ')}`,
        event,
      );
    }
  }
  if (events.length === 0)
    node.fail('events', 'must list at least one event', events);
  return events as NotificationEventKind[];
}

function parseHeaders(node: ConfigNode): Record<string, string> {
  const raw = node.raw('headers') ?? {};
  const isMap = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
  const entries = isMap ? Object.entries(raw as Record<string, unknown>) : [];
  const valid = entries.every(
    ([name, value]) =>
      /^[A-Za-z0-9-]+$/.test(name) && typeof value === 'string',
  );
  if (!isMap || !valid) {
    node.fail('headers', 'must map header names to string values', raw);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

function requiredUrl(node: ConfigNode, key: string): string {
  const text = node.string(key);
  if (!isHttpUrl(text)) {
    node.fail(key, 'must be an http:// or https:// URL', text);
  }
  return text;
}

function optionalUrl(node: ConfigNode, key: string): string | null {
  return node.has(key) ? requiredUrl(node, key) : (node.raw(key), null);
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
