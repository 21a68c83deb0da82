/**
 * The request bodies of notifications, one builder per channel type:
 * an Alertmanager webhook (version "4") body for generic webhooks, a Slack
 * incoming-webhook body, and an ntfy publish (plain text with headers).
 * Pure; the notifier sends what these build.
 */
import { createHash } from 'node:crypto';
import type { Incident, NotificationEventKind } from './incident.ts';
import type { NotificationChannel } from './incidents-config.ts';
import { durationText, triggerText } from './postmortem.ts';

/** What one notification says. */
export interface NotificationMessage {
  event: NotificationEventKind;
  incident: Incident;
  /** Base URL of the collector's web UI; null when not configured. */
  externalUrl: string | null;
}

/** A request ready to send (always POST). */
export interface NotificationRequest {
  headers: Record<string, string>;
  body: string;
}

/** Alertmanager's "not ended" time for firing alerts. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

const NTFY_PRIORITY: Readonly<Record<string, string>> = {
  SEV1: '5',
  SEV2: '4',
  SEV3: '3',
  SEV4: '2',
};

/** The request for `channel`, without credentials (the notifier adds them). */
export function buildNotificationRequest(
  channel: NotificationChannel,
  message: NotificationMessage,
): NotificationRequest {
  if (channel.type === 'slack') return json(slackBody(message));
  if (channel.type === 'ntfy') return ntfyRequest(message);
  return json(alertmanagerBody(message));
}

/** One line for people: `[SEV2] INC-… opened: <title> — <trigger>`. */
export function headline(message: NotificationMessage): string {
  const { incident, event } = message;
  const what =
    event === 'resolved'
      ? `resolved after ${durationText(incident, Date.parse(incident.openedAt))}`
      : event === 'escalated'
        ? `escalated to ${incident.severity}`
        : event;
  return `[${incident.severity}] ${incident.id} ${what}: ${incident.title} (${triggerText(incident)})`;
}

/** The Alertmanager webhook body (version "4") for one incident event. */
export function alertmanagerBody(message: NotificationMessage): object {
  const { incident } = message;
  const status = message.event === 'resolved' ? 'resolved' : 'firing';
  const identity = {
    alertname: 'GpuwardenSloBurn',
    incident_id: incident.id,
    node: incident.node,
    slo: incident.slo.name,
  };
  const labels = { ...identity, severity: incident.severity };
  const annotations = {
    summary: headline(message),
    description: incident.rootCause,
    event: message.event,
    trigger: triggerText(incident),
    title: incident.title,
  };
  const link = incidentLink(message);
  return {
    version: '4',
    groupKey: `{}:{dedup_key=${JSON.stringify(incident.dedupKey)}}`,
    truncatedAlerts: 0,
    status,
    receiver: 'gpuwarden',
    groupLabels: { dedup_key: incident.dedupKey },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: message.externalUrl ?? '',
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: incident.openedAt,
        endsAt:
          status === 'resolved'
            ? (incident.resolvedAt ?? ZERO_TIME)
            : ZERO_TIME,
        generatorURL: link ?? '',
        fingerprint: fingerprintOf(identity),
      },
    ],
  };
}

/** The Slack incoming-webhook body. */
export function slackBody(message: NotificationMessage): object {
  const icon =
    message.event === 'resolved' ? ':white_check_mark:' : ':rotating_light:';
  const text = `${icon} ${headline(message)}`;
  const link = incidentLink(message);
  const details = [
    `*${message.incident.title}*`,
    message.incident.rootCause,
    link ? `<${link}|${message.incident.id}>` : '',
  ].filter((line) => line.length > 0);
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'section', text: { type: 'mrkdwn', text: details.join('\n') } },
    ],
  };
}

function ntfyRequest(message: NotificationMessage): NotificationRequest {
  const { incident, event } = message;
  const headers: Record<string, string> = {
    'Content-Type': 'text/plain; charset=utf-8',
    // Header values must stay ASCII: the title goes in the body.
    Title: `[${incident.severity}] ${incident.id} ${event}`,
    Priority:
      event === 'resolved' ? '3' : (NTFY_PRIORITY[incident.severity] ?? '3'),
    Tags: event === 'resolved' ? 'white_check_mark' : 'rotating_light',
  };
  const link = incidentLink(message);
  if (link) headers.Click = link;
  const body = [headline(message), incident.rootCause]
    .filter(Boolean)
    .join('\n\n');
  return { headers, body };
}

function json(body: object): NotificationRequest {
  return {
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  };
}

function incidentLink(message: NotificationMessage): string | null {
  if (!message.externalUrl) return null;
  const base = message.externalUrl.replace(/\/+$/, '');
  return `${base}/incidents/${message.incident.id}`;
}

function fingerprintOf(labels: Record<string, string>): string {
  const text = Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join('\xff');
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
